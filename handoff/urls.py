from django.urls import path

from handoff import views

app_name = "handoff"
urlpatterns = [
    path("cycles/<int:cycle_id>/calls/", views.cycle_call, name="cycle-call"),
    path("cycles/<int:cycle_id>/promote/", views.cycle_promote_view, name="cycle-promote"),
    path("leads/<int:contact_id>/raise/", views.contact_raise, name="contact-raise"),
    path("reassign/", views.cycles_reassign_view, name="cycles-reassign"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("team/", views.team, name="team"),
]
