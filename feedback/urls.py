from django.urls import path

from feedback.views import verdicts

app_name = "feedback"
urlpatterns = [
    path("cycles/<int:cycle_id>/verdict/", verdicts.cycle_verdict, name="cycle-verdict"),
    path("cycles/<int:cycle_id>/outcome/", verdicts.cycle_outcome, name="cycle-outcome"),
]
