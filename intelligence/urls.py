app_name = "intelligence"
urlpatterns: list = []
