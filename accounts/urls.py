from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("role/switch/", views.switch_role, name="switch_role"),
    path("me/record/", views.my_record, name="my_record"),
    path("roster/", views.roster_list, name="roster_list"),
    path("pickers/schools/", views.picker_schools, name="picker_schools"),
    path("pickers/teachers/", views.picker_teachers, name="picker_teachers"),
    path("roster/add/", views.teacher_add, name="teacher_add"),
    path("roster/confirm/", views.roster_confirm, name="roster_confirm"),
    path("roster/import/", views.roster_import_upload, name="roster_import"),
    path("roster/import/template.xlsx", views.roster_import_template, name="roster_import_template"),
    path("roster/import/<int:pk>/", views.roster_import_detail, name="roster_import_detail"),
    path("roster/<int:pk>/", views.teacher_detail, name="teacher_detail"),
    path("roster/<int:pk>/edit/", views.teacher_edit, name="teacher_edit"),
    path("roster/<int:pk>/transfer/", views.teacher_transfer, name="teacher_transfer"),
    path("roster/<int:pk>/retire/", views.teacher_retire, name="teacher_retire"),
    path("roster/<int:pk>/leave/", views.teacher_leave, name="teacher_leave"),
    path("roster/<int:pk>/login/", views.teacher_issue_login, name="teacher_issue_login"),
    path("orgs/", views.organisation_list, name="organisation_list"),
    path("orgs/add/", views.organisation_form, name="organisation_add"),
    path("orgs/<int:pk>/edit/", views.organisation_form, name="organisation_edit"),
]
