from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_points, name="my_points"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="points_request_cancel"),
    path("requests/", views.school_requests, name="school_requests"),
    path("rules/", views.rules, name="points_rules"),
    path("import/", views.points_import, name="points_import"),
    path("import/<int:pk>/", views.points_import, name="points_import_detail"),
    path("import/template.xlsx", views.points_template, name="points_template"),
]
