from django.urls import path

from . import views

# The annual regime's pages: mounted by cpd/urls.py in an annual deployment only.
urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("my/", views.my_results, name="my_results"),
    path("my/<int:year>/complain/", views.result_complain, name="result_complain"),
    path("results/", views.result_list, name="result_list"),
    path("exemptions/", views.exemption_toggle, name="exemption_toggle"),
    path("notice/", views.notice, name="notice"),
    path("complaints/", views.complaint_list, name="result_complaints"),
    path("complaints/<int:pk>/correct/", views.complaint_correct, name="complaint_correct"),
    path("confirmations/", views.confirmations, name="confirmations"),
    path("statistics/", views.statistics, name="statistics"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
