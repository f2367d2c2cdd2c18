"""The threshold review's maths: plain typed functions, no Django (a test enforces it).

``stats`` counts acceptance and conversion with Wilson intervals, by band and by
threshold; ``rules`` fits the regularised logistic regression of the verdicts on the
rule hits stored at MQL time and scales it back to the definition's points;
``thresholds`` picks the hot and warm thresholds those points imply; ``propose``
puts the three together into one proposal (or says the evidence is too thin).
"""

from feedback.review.propose import Proposal, propose
from feedback.review.rules import RuleInfo
from feedback.review.stats import Interval, JudgedMql, wilson

__all__ = ["Interval", "JudgedMql", "Proposal", "RuleInfo", "propose", "wilson"]
