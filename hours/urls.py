from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_hours, name="my_hours"),
    path("teacher/<int:pk>/", views.teacher_hours, name="teacher_hours"),
    path("ledger/<int:pk>/revoke/", views.ledger_revoke, name="ledger_revoke"),
    path("declarations/", views.declaration_list, name="declaration_list"),
    path("declarations/new/", views.declaration_form, name="declaration_new"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/edit/", views.declaration_form, name="declaration_edit"),
    path("declarations/<int:pk>/submit/", views.declaration_submit, name="declaration_submit"),
    path("declarations/<int:pk>/withdraw/", views.declaration_withdraw, name="declaration_withdraw"),
    path("declarations/<int:pk>/review/", views.review_action, name="review_action"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/approve/", views.review_bulk_approve, name="review_bulk_approve"),
    path("evidence/<str:token>/", views.evidence_file, name="evidence_file"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("years/", views.year_list, name="year_list"),
]
