"""Training pages. They keep their addresses under /hours/ (mounted there by cpd/urls.py)."""

from django.urls import path

from . import views as pv

urlpatterns = [
    path("projects/", pv.project_list, name="project_list"),
    path("projects/new/", pv.project_form, name="project_new"),
    path("projects/<int:pk>/", pv.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", pv.project_form, name="project_edit"),
    path("projects/<int:pk>/publish/", pv.project_publish, name="project_publish"),
    path("projects/<int:pk>/approval/", pv.project_approval, name="project_approval"),
    path("projects/<int:pk>/enrol/", pv.project_enrol, name="project_enrol"),
    path("projects/<int:pk>/register/", pv.project_register, name="project_register"),
    path("projects/<int:pk>/import/", pv.project_import_upload, name="project_import"),
    path("projects/<int:pk>/extension/", pv.extension_request, name="extension_request"),
    path("registrations/<int:entry_pk>/revoke/", pv.registration_revoke, name="registration_revoke"),
    path("registrations/<int:entry_pk>/complain/", pv.complaint_new, name="complaint_new"),
    path("registrations/template.xlsx", pv.registration_template, name="registration_template"),
    path("enrolments/", pv.enrolment_list, name="enrolment_list"),
    path("enrolments/action/", pv.enrolment_action, name="enrolment_action"),
    path("imports/<int:pk>/", pv.hours_import_detail, name="hours_import_detail"),
    path("provincial/", pv.provincial_import, name="provincial_import"),
    path("provincial/template.xlsx", pv.provincial_template, name="provincial_template"),
    path("extensions/", pv.extension_list, name="extension_list"),
    path("complaints/", pv.complaint_list, name="complaint_list"),
    path("courses/", pv.course_list, name="course_list"),
]
