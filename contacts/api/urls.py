from django.urls import path

from contacts.api import activations, reports, views

app_name = "api"

urlpatterns = [
    path("workspaces/", views.WorkspaceList.as_view(), name="workspace-list"),
    path("workspaces/<str:workspace_id>/", views.WorkspaceDetail.as_view(), name="workspace-detail"),
    path("workspaces/<str:workspace_id>/contacts/", views.ContactList.as_view(), name="contact-list"),
    path(
        "workspaces/<str:workspace_id>/contacts/<str:contact_id>/",
        views.ContactDetail.as_view(),
        name="contact-detail",
    ),
    path("workspaces/<str:workspace_id>/tags/", views.TagList.as_view(), name="tag-list"),
    path(
        "workspaces/<str:workspace_id>/reports/", reports.WorkspaceReport.as_view(), name="workspace-report"
    ),
    path(
        "workspaces/<str:workspace_id>/activations/",
        activations.ActivationList.as_view(),
        name="activation-list",
    ),
    path(
        "workspaces/<str:workspace_id>/activations/<str:run_id>/",
        activations.ActivationDetail.as_view(),
        name="activation-detail",
    ),
    path(
        "workspaces/<str:workspace_id>/activations/<str:run_id>/cancel/",
        activations.ActivationCancel.as_view(),
        name="activation-cancel",
    ),
]
