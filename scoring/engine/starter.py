"""The built-in starter definition: common B2B practice, so scoring starts at once."""

from __future__ import annotations

from scoring.engine.definition import BantRequirement, Definition, Thresholds
from scoring.engine.rules import AttributeRule, BehaviourRule, IntentRule, Op

# --- The starter definition --------------------------------------------------------

_FREE_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.co.jp", "ymail.ne.jp", "yahoo.com", "outlook.com",
    "outlook.jp", "hotmail.com", "hotmail.co.jp", "live.jp", "icloud.com", "me.com",
    "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com",
    "biglobe.ne.jp",
)  # fmt: skip


def _label(texts: tuple[str, str]) -> dict[str, str]:
    return {"ja": texts[0], "en": texts[1]}


def _visit(
    key: str,
    label: tuple[str, str],
    kinds: str,
    points: float,
    cap: float,
    half_life: float | None = None,
    window: int | None = None,
    url: str = "",
) -> BehaviourRule:
    return BehaviourRule(
        key=key,
        label=_label(label),
        kinds=frozenset(kinds.split()),
        url_contains=url,
        points=points,
        cap=cap,
        half_life_days=half_life,
        window_days=window,
    )


def _title(key: str, label: tuple[str, str], words: str, points: float) -> AttributeRule:
    return AttributeRule(
        key=key,
        label=_label(label),
        attribute="contact.title",
        op=Op.CONTAINS_ANY,
        value=tuple(words.split("|")),
        points=points,
    )


def starter_definition() -> Definition:
    """A definition following common B2B practice, so a new installation scores at once.

    Not scored on purpose: e-mail opens (privacy proxies open mail on their
    own), bounces, the unsubscribe event (the unsubscribed attribute already
    costs −100; both would count it twice) and meetings (sales-owned, after
    handoff). Competitor domains differ per company, so there is no competitor
    rule until someone adds one. Title rules add up: "営業部長 / Sales Manager"
    gets both.
    """
    v = _visit
    behaviour = (
        v("pricing_page", ("料金ページ閲覧", "Pricing page view"), "page_view", 5, 15, 14, url="/pricing"),
        v("page_view", ("ページ閲覧", "Page view"), "page_view", 1, 10, 7),
        v("careers_page", ("採用ページ閲覧（求職者）", "Careers page view (job seeker)"), "page_view",
          -10, -30, window=180, url="/careers"),
        v("whitepaper", ("ホワイトペーパーDL", "Whitepaper download"), "whitepaper_download", 10, 30, 30),
        v("case_study", ("導入事例DL", "Case study download"), "case_study_download", 10, 20, 30),
        v("webinar_registration", ("ウェビナー申込", "Webinar registration"), "webinar_registration",
          5, 10, 30),
        v("webinar_attendance", ("ウェビナー参加", "Webinar attendance"), "webinar_attendance",
          15, 30, 30),
        v("video_view", ("動画視聴", "Video view"), "video_view", 3, 9, 14),
        v("event_visit", ("展示会・イベント来場", "Event visit"), "event_visit", 10, 20, 30),
        v("form_submission", ("お問い合わせ・資料請求", "Form submission"), "form_submission",
          15, 30, 30),
        v("demo_or_pricing_request", ("デモ・見積依頼", "Demo or pricing request"),
          "demo_request pricing_request", 40, 40, window=60),
        v("trial_signup", ("無料トライアル申込", "Trial sign-up"), "trial_signup", 30, 30, window=60),
        v("chat", ("チャット問い合わせ", "Chat"), "chat", 10, 20, 14),
        v("email_click", ("メールクリック", "E-mail click"), "email_click", 3, 9, 14),
    )  # fmt: skip
    a = AttributeRule
    attributes = (
        _title("title_senior", ("役職：部長・役員クラス", "Title: director or above"),
               "部長|本部長|取締役|執行役員|社長|director|vp|vice president|head of|chief", 15),
        _title("title_manager", ("役職：課長・マネージャー", "Title: manager"),
               "課長|マネージャー|マネジャー|manager", 8),
        _title("title_student", ("学生", "Student"), "学生|院生|student", -50),
        a(key="employees_300", label=_label(("従業員300名以上", "300+ employees")),
          attribute="company.employee_count", op=Op.GTE, value=300, points=10),
        a(key="employees_1000", label=_label(("従業員1000名以上", "1,000+ employees")),
          attribute="company.employee_count", op=Op.GTE, value=1000, points=5),
        a(key="target_industry", label=_label(("重点業種（製造・情報通信）", "Target industry")),
          attribute="company.industry", op=Op.IN, value=("E", "G"), points=10),
        a(key="unsubscribed", label=_label(("配信停止", "Unsubscribed")),
          attribute="contact.is_unsubscribed", op=Op.IS_TRUE, points=-100),
        a(key="free_mail", label=_label(("フリーメール", "Free-mail address")),
          attribute="contact.email_domain", op=Op.ENDS_WITH_ANY, value=_FREE_MAIL_DOMAINS,
          points=-15),
    )  # fmt: skip
    intents = (
        IntentRule(
            key="intent_strong",
            label=_label(("インテント（強度60以上）", "Strong intent")),
            min_strength=60,
            points=10,
            cap=20,
            half_life_days=14,
        ),
    )
    return Definition(
        behaviour=behaviour,
        attributes=attributes,
        intents=intents,
        thresholds=Thresholds(warm=30, hot=60, fit_floor=10),
        bant=BantRequirement(required=frozenset({"need", "authority"}), min_count=3),
    )
