"""Response shapes of the scoring API (documentation and output only)."""

from rest_framework import serializers

from scoring.models import Band


class ContributionSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule's key in the definition.")
    label = serializers.CharField(help_text="The rule's label in the request's language.")
    labels = serializers.DictField(
        child=serializers.CharField(), help_text="The label in each language: {ja, en}."
    )
    category = serializers.ChoiceField(choices=["fit", "behaviour", "intent"])
    hits = serializers.IntegerField(help_text="Matching activities / signals (1 for fit rules).")
    points = serializers.FloatField(help_text="What the rule adds, after decay and cap.")
    points_raw = serializers.FloatField(help_text="hits × points, before decay and cap.")
    points_decayed = serializers.FloatField(help_text="After decay, before the cap.")
    is_trigger = serializers.BooleanField(
        help_text="The rule is an MQL trigger and matched (see triggered_by for its effect)."
    )


class StandingSerializer(serializers.Serializer):
    warm = serializers.FloatField(help_text="Warm from this total.")
    hot = serializers.FloatField(help_text="Hot (MQL) from this total, if fit meets the floor.")
    fit_floor = serializers.FloatField(
        allow_null=True, help_text="The fit a hot lead needs at least; null: none."
    )
    points_to_warm = serializers.FloatField(
        allow_null=True, help_text="Points a cold lead still needs to be warm; else null."
    )
    points_to_hot = serializers.FloatField(
        allow_null=True, help_text="Points still needed to reach the hot threshold; else null."
    )
    fit_short = serializers.FloatField(
        allow_null=True, help_text="Fit points missing under the fit floor; else null."
    )
    held_by_fit_floor = serializers.BooleanField(
        help_text="The total reaches hot, but fit under the floor keeps the lead warm."
    )
    reasons = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["mql_trigger", "reached_hot", "reached_warm", "below_warm", "fit_below_floor"]
        ),
        help_text="Why the lead is in its band, as stable codes.",
    )


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
    standing = StandingSerializer(help_text="The band's reasons beyond points.")
    negative_rules = serializers.ListField(
        child=serializers.CharField(), help_text="Keys of the rules that took points away."
    )
    triggered_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Keys of the MQL trigger rules that made the lead hot whatever its points.",
    )
    trigger_held = serializers.BooleanField(
        help_text="A trigger rule matched, but a negative rule kept the lead from being hot."
    )
    summary = serializers.CharField(help_text="Why the lead is in its band, in words.")
