"""Cycle pages (mounted at the site root by cpd/urls.py in a cycle deployment only; addresses unchanged)."""

from django.urls import path

from . import views

urlpatterns = [
    path("verification/cycle/", views.my_cycle, name="my_cycle"),
    path("verification/cycle/certificate/", views.certificate_issue, name="certificate_issue"),
    path("verification/cycle/certificate/<str:code>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("verification/cycle/statistics/", views.cycle_statistics, name="cycle_statistics"),
    path("certificates/verify/", views.certificate_verify, name="certificate_verify"),
]
