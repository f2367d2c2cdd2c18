"""Response shapes of the scoring API (documentation and output only)."""

from rest_framework import serializers

from scoring.models import Band


class ContributionSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule's key in the definition.")
    label = serializers.CharField()
    category = serializers.ChoiceField(choices=["fit", "behaviour", "intent"])
    hits = serializers.IntegerField(help_text="Matching activities / signals (1 for fit rules).")
    points = serializers.FloatField(help_text="What the rule adds, after decay and cap.")
    points_raw = serializers.FloatField(help_text="hits × points, before decay and cap.")
    points_decayed = serializers.FloatField(help_text="After decay, before the cap.")


class LeadScoreSerializer(serializers.Serializer):
    total = serializers.FloatField(
        help_text="fit + engagement; the breakdown's points add up to it."
    )
    fit = serializers.FloatField()
    engagement = serializers.FloatField()
    band = serializers.ChoiceField(choices=Band.choices)
    breakdown = ContributionSerializer(many=True)
    version = serializers.IntegerField(help_text="The definition version that scored the lead.")
    at = serializers.DateTimeField(help_text="The moment the score is computed at.")
