"""UI pages (filled in below)."""


def home_pipeline_panel(request):
    return None
