"""The generic import pages: upload, choose the column mapping, watch progress (htmx polling)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from salesapp import imports
from salesapp.models import ImportJob


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField()
    file = forms.FileField(help_text="CSV, UTF-8, with a header row")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.name, k.label) for k in kinds]


def _job_for(request, pk) -> ImportJob:
    return get_object_or_404(imports.import_job_list(user=request.user).defer(None), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    imports.require_importer(request.user)
    kinds = imports.kinds_for(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds,
                            initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_job_create(
                actor=request.user, kind=form.cleaned_data["kind"], content=upload.read(),
                filename=upload.name or "", check=False,
            )
        except imports.ImportSetupError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("imports:detail", pk=job.pk)
    return render(request, "salesapp/import_new.html", {"form": form, "back": request.GET.get("back", "")})


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    job = _job_for(request, pk)
    if request.method == "POST":
        imports.require_importer(request.user, job.kind)
    if job.kind == imports.BUNDLE:
        return _bundle_detail(request, job)
    spec = imports.import_kind(job.kind)
    header = imports.read_header(bytes(job.content))
    error = ""
    if request.method == "POST" and not job.queued_at:
        mapping = {h: request.POST.get(f"map_{i}", "") for i, h in enumerate(header)}
        try:
            imports.import_job_set_mapping(
                job=job, actor=request.user, mapping=mapping, dry_run=request.POST.get("dry_run") == "on",
                on_error=request.POST.get("on_error", "abort"),
            )
        except imports.ImportSetupError as exc:
            error = exc.message
            job.mapping = mapping
        else:
            imports.import_job_start(job)
            return redirect("imports:detail", pk=job.pk)
    samples = imports.read_samples(bytes(job.content), header)
    rows = [{"index": i, "header": h, "selected": job.mapping.get(h, ""), "samples": samples[h]}
            for i, h in enumerate(header)]
    return render(request, "salesapp/import_detail.html", {
        "job": job, "kind": spec, "rows": rows, "error": error, "on_error_choices": ImportJob.OnError.choices,
        "preview": imports.preview_rows(bytes(job.content), job.mapping, spec),
        "references": spec.reference_columns,
    })


def _bundle_detail(request, job: ImportJob):
    """A zip of several kinds: each file with the kind it is read as and its columns' mapping, then start."""
    if request.method == "POST" and not job.queued_at:
        imports.import_job_start(job)
        return redirect("imports:detail", pk=job.pk)
    files = [{"name": name, "kind": spec, "mapping": job.mapping.get(name, {})}
             for spec, name, _content in imports.bundle_members(job.content)]
    return render(request, "salesapp/import_bundle.html", {"job": job, "files": files, "kind": None})


@login_required
def import_progress(request, pk):
    """The progress card alone; it keeps polling itself until the job finishes."""
    job = _job_for(request, pk)
    kind = imports.import_kind(job.kind) if job.kind != imports.BUNDLE else None
    return render(request, "salesapp/import_progress.html", {"job": job, "kind": kind})


@login_required
@require_http_methods(["POST"])
def import_rerun(request, pk):
    """Run a finished import again as a new job: a dry run for real, a failed one as a retry."""
    imports.require_importer(request.user)  # the role decides before the record is looked up
    job = _job_for(request, pk)
    imports.require_importer(request.user, job.kind)
    try:
        new = imports.import_job_retry(actor=request.user, job=job, on_error=request.POST.get("on_error"))
    except imports.ImportSetupError:
        return redirect("imports:detail", pk=job.pk)
    return redirect("imports:detail", pk=new.pk)
