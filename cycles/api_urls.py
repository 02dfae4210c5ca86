from django.urls import path

from . import api

urlpatterns = [
    path("cycle/", api.my_cycle, name="api_my_cycle"),
    path("cycle/certificates/", api.certificate_issue, name="api_certificate_issue"),
    path("cycle/certificates/<str:code>/pdf/", api.certificate_pdf, name="api_certificate_pdf"),
    path("cycle-statistics/", api.cycle_statistics, name="api_cycle_statistics"),
]
