"""Pages of the app. Everything about contacts lives under the workspace's slug."""

from django.urls import path

from contacts.views import activations, contacts, pages, reports, tags

urlpatterns = [
    path("", pages.home, name="home"),
    path("w/<slug:slug>/", pages.workspace_home, name="workspace_home"),
    path("w/<slug:slug>/live/", pages.workspace_version, name="workspace_live"),
    path("w/<slug:slug>/contacts/", contacts.contact_list, name="contact_list"),
    path("w/<slug:slug>/contacts/new/", contacts.contact_create, name="contact_create"),
    path("w/<slug:slug>/contacts/<uuid:contact_id>/", contacts.contact_detail, name="contact_detail"),
    path("w/<slug:slug>/contacts/<uuid:contact_id>/edit/", contacts.contact_edit, name="contact_edit"),
    path("w/<slug:slug>/contacts/<uuid:contact_id>/delete/", contacts.contact_delete, name="contact_delete"),
    path("w/<slug:slug>/contacts/<uuid:contact_id>/tags/", tags.contact_tags, name="contact_tags"),
    path("w/<slug:slug>/tags/suggest/", tags.tag_suggest, name="tag_suggest"),
    path("w/<slug:slug>/reports/", reports.reports, name="reports"),
    path("w/<slug:slug>/activations/", activations.activation_start, name="activation_start"),
    path(
        "w/<slug:slug>/activations/<uuid:run_id>/cancel/",
        activations.activation_cancel,
        name="activation_cancel",
    ),
    path(
        "w/<slug:slug>/activations/<uuid:run_id>/progress/",
        activations.activation_progress,
        name="activation_progress",
    ),
]
