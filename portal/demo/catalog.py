"""The hand-written parts of the demo data: constants, names, titles, pages, campaigns.

Everything here is invented or common knowledge (frequent surnames, area codes,
the JSIC division of each middle code); the datasets supply the rest.
"""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from accounts.roles import Role
from leads.models import Activity, Contact

SEED = 20261125
DEMO_DOMAIN_SUFFIX = ".example.jp"  # reserved by JPRS: never a real company
SOURCE_MA = "demo-ma"
SOURCE_WEB = "demo-web"
SOURCE_SFA = "demo-sfa"
SOURCE_PREFIX = "demo-"
INTENT_PROVIDER = "demo-intent"
DEMO_PASSWORD = "demo"
DEFAULT_COMPANIES = 2000
DEFAULT_CONTACTS = 4000
SYNTHETIC_COMPANIES = 200
SYNTHETIC_CONTACTS = 400
TOTTORI_SHARE = 0.6  # the rest comes from the nationwide Japan Post list
ACTIVITY_DAYS = 120
INTENT_DAYS = 60
BATCH = 2000
JST = ZoneInfo("Asia/Tokyo")

DATASET_FILES = {
    "tottori": "jp_nta_houjin_bangou/tottori_houjin_utf8.csv.gz",
    "jigyosyo": "jp_post_zipcode/jigyosyo_utf8.csv.gz",
    "jsic": "jp_jsic/jsic_rev14_codes.csv",
    "sessions": "uci_online_shoppers/online_shoppers_intention.csv",
    "bank": "uci_bank_marketing/bank-additional-2008-05_2009-09.csv.gz",
}

# Verbatim from shared/datasets/SOURCES.md. We edit the NTA and JSIC data, hence 加工.
ATTRIBUTION = (
    "Moro, S., Cortez, P., & Rita, P. (2014). A data-driven approach to predict the success "
    "of bank telemarketing. Decision Support Systems 62:22–31. UCI Machine Learning "
    "Repository, CC BY 4.0.",
    "Sakar, C.O., Polat, S.O., Katircioglu, M., Kastro, Y. (2018). Real-time prediction of "
    "online shoppers' purchasing intention… Neural Computing and Applications. UCI Machine "
    "Learning Repository, CC BY 4.0.",
    "出典：国税庁法人番号公表サイト（国税庁）(https://www.houjin-bangou.nta.go.jp/) を加工して作成",
    "郵便番号データ：日本郵便株式会社 (https://www.post.japanpost.jp/zipcode/download.html)",
    "出典：総務省 日本標準産業分類（令和5年7月改定・第14回改定）"
    "(https://www.soumu.go.jp/toukei_toukatsu/index/seido/sangyo/R05index.html) を加工して作成",
)

# username, role, last name, first name
DEMO_USERS = (
    ("marketing", Role.MARKETING, "佐藤", "美咲"),
    ("insidesales", Role.INSIDE_SALES, "鈴木", "健太"),
    ("sales", Role.SALES, "高橋", "大輔"),
    ("manager", Role.SALES_MANAGER, "田中", "直樹"),
    ("admin", Role.ADMIN, "伊藤", "由美"),
    ("insidesales2", Role.INSIDE_SALES, "山本", "花子"),
    ("insidesales3", Role.INSIDE_SALES, "中村", "翔"),
    ("sales2", Role.SALES, "小林", "優子"),
)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(item.split(":")) for item in text.split())  # type: ignore[misc]


# Common surnames, most frequent first, and given names, with their readings.
SURNAMES = _pairs(
    "佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト "
    "中村:ナカムラ 小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ "
    "松本:マツモト 井上:イノウエ 木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ "
    "森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ 石川:イシカワ 山下:ヤマシタ 中島:ナカジマ "
    "石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ 藤田:フジタ 後藤:ゴトウ "
    "近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 福田:フクダ 太田:オオタ "
    "西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ 三浦:ミウラ "
    "原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ "
    "和田:ワダ 石田:イシダ 森田:モリタ 上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ "
    "宮崎:ミヤザキ 横山:ヨコヤマ 高木:タカギ 安藤:アンドウ 宮本:ミヤモト 大野:オオノ 小島:コジマ "
    "谷口:タニグチ 工藤:クドウ 今井:イマイ 高田:タカダ 増田:マスダ 丸山:マルヤマ 杉山:スギヤマ "
    "村田:ムラタ 大塚:オオツカ 新井:アライ 小山:コヤマ 平野:ヒラノ 藤本:フジモト 河野:コウノ "
    "上野:ウエノ 野口:ノグチ 武田:タケダ 松井:マツイ 千葉:チバ 岩崎:イワサキ 木下:キノシタ"
)
GIVEN_NAMES = _pairs(
    "健太:ケンタ 翔太:ショウタ 大輔:ダイスケ 拓也:タクヤ 直樹:ナオキ 和也:カズヤ 達也:タツヤ "
    "誠:マコト 剛:ツヨシ 浩:ヒロシ 隆:タカシ 亮:リョウ 悠斗:ユウト 大樹:ダイキ 拓海:タクミ "
    "健一:ケンイチ 修:オサム 学:マナブ 哲也:テツヤ 雄一:ユウイチ 淳:ジュン 智也:トモヤ "
    "裕介:ユウスケ 慎一:シンイチ 康弘:ヤスヒロ 秀樹:ヒデキ 正樹:マサキ 洋平:ヨウヘイ 陽介:ヨウスケ "
    "翔:ショウ 蓮:レン 颯太:ソウタ 航:ワタル 一郎:イチロウ 浩二:コウジ 俊介:シュンスケ "
    "博之:ヒロユキ 雅人:マサト 美咲:ミサキ 陽子:ヨウコ 恵子:ケイコ 由美:ユミ 真由美:マユミ "
    "裕子:ユウコ 直美:ナオミ 智子:トモコ 久美子:クミコ 明美:アケミ 愛:アイ 彩:アヤ 麻衣:マイ "
    "香織:カオリ 沙織:サオリ 奈々:ナナ 美穂:ミホ 千尋:チヒロ 結衣:ユイ さくら:サクラ 葵:アオイ "
    "陽菜:ヒナ 美香:ミカ 理恵:リエ 早紀:サキ 綾香:アヤカ 瞳:ヒトミ 夏美:ナツミ 加奈子:カナコ "
    "亜希子:アキコ 真理子:マリコ 恵美:エミ 紀子:ノリコ 涼子:リョウコ 遥:ハルカ"
)
# For the synthetic fallback only: invented names, marked as such in the docs.
SYNTHETIC_PREFIXES = _pairs(
    "さくら:サクラ 青葉:アオバ みらい:ミライ 東洋:トウヨウ 大和:ヤマト 北斗:ホクト 光:ヒカリ "
    "富士:フジ 瑞穂:ミズホ 朝日:アサヒ 共栄:キョウエイ 新栄:シンエイ 昭和:ショウワ 平和:ヘイワ "
    "中央:チュウオウ 三栄:サンエイ 大成:タイセイ 協和:キョウワ 山陰:サンイン 湊:ミナト"
)
SYNTHETIC_CORES = _pairs(
    "テクノ:テクノ システム:システム 工業:コウギョウ 商事:ショウジ 精機:セイキ 建設:ケンセツ "
    "電子:デンシ 物流:ブツリュウ フーズ:フーズ ソリューションズ:ソリューションズ "
    "メディカル:メディカル 化成:カセイ 製作所:セイサクショ 情報サービス:ジョウホウサービス "
    "設計:セッケイ"
)

# JSIC division weights for companies whose name says nothing (E, G, I, D, L, P lead).
INDUSTRY_WEIGHTS = {
    "E": 22, "I": 16, "D": 14, "G": 12, "L": 8, "P": 7, "H": 5, "K": 4,
    "R": 4, "M": 3, "N": 2, "J": 1, "O": 1, "A": 1,
}  # fmt: skip
# A word in the name -> (division, JSIC middle code). First match wins.
INDUSTRY_HINTS = (
    ("銀行", "J", "62"), ("信用金庫", "J", "63"), ("証券", "J", "65"), ("保険", "J", "67"),
    ("建設", "D", "06"), ("工務店", "D", "06"), ("組", "D", "06"), ("設備", "D", "08"),
    ("電設", "D", "08"), ("製薬", "E", "16"), ("化成", "E", "16"), ("化学", "E", "16"),
    ("食品", "E", "09"), ("フーズ", "E", "09"), ("製粉", "E", "09"), ("酒造", "E", "10"),
    ("印刷", "E", "15"), ("電子", "E", "28"), ("電機", "E", "29"), ("精機", "E", "26"),
    ("製作所", "E", "26"), ("工業", "E", "24"), ("自動車", "I", "59"), ("商事", "I", "55"),
    ("商会", "I", "55"), ("物産", "I", "50"), ("薬局", "I", "60"), ("ストア", "I", "56"),
    ("運輸", "H", "44"), ("運送", "H", "44"), ("物流", "H", "44"), ("倉庫", "H", "47"),
    ("交通", "H", "43"), ("鉄道", "H", "42"), ("航空", "H", "46"), ("放送", "G", "38"),
    ("新聞", "G", "41"), ("出版", "G", "41"), ("通信", "G", "37"), ("システム", "G", "39"),
    ("ソフト", "G", "39"), ("情報", "G", "39"), ("ネット", "G", "40"), ("テクノ", "G", "39"),
    ("ホテル", "M", "75"), ("旅館", "M", "75"), ("不動産", "K", "68"), ("地所", "K", "69"),
    ("リース", "K", "70"), ("設計", "L", "74"), ("コンサル", "L", "72"), ("広告", "L", "73"),
    ("メディカル", "P", "83"), ("介護", "P", "85"), ("ケア", "P", "85"), ("福祉", "P", "85"),
    ("石油", "I", "60"), ("販売", "I", "60"), ("電力", "F", "33"), ("ガス", "F", "34"),
    ("学院", "O", "82"), ("塾", "O", "82"),
)  # fmt: skip

# title, job level, weight, departments (empty: any of DEPARTMENTS; "": none).
# people.contact_specs gives executives more weight at companies under 30 people.
TITLES = (
    ("代表取締役", Contact.JobLevel.EXECUTIVE, 2, ("",)),
    ("取締役", Contact.JobLevel.EXECUTIVE, 3, ("", "営業本部", "経営企画部")),
    ("執行役員", Contact.JobLevel.EXECUTIVE, 2, ("営業本部", "マーケティング本部", "情報システム本部")),
    ("本部長", Contact.JobLevel.DIRECTOR, 5, ("営業本部", "マーケティング本部", "事業本部")),
    ("部長", Contact.JobLevel.DIRECTOR, 12, ()),
    ("室長", Contact.JobLevel.DIRECTOR, 3, ("DX推進室", "経営企画室")),
    ("課長", Contact.JobLevel.MANAGER, 15, ()),
    ("マネージャー", Contact.JobLevel.MANAGER, 9, ("マーケティング部", "インサイドセールス部", "カスタマーサクセス部", "営業企画部")),
    ("係長", Contact.JobLevel.MANAGER, 5, ()),
    ("主任", Contact.JobLevel.STAFF, 10, ()),
    ("担当", Contact.JobLevel.STAFF, 18, ()),
    ("エンジニア", Contact.JobLevel.STAFF, 7, ("情報システム部", "開発部", "DX推進室")),
    ("顧問", Contact.JobLevel.OTHER, 1, ("",)),
    ("", Contact.JobLevel.OTHER, 2, ()),
)  # fmt: skip
DEPARTMENTS = (
    "営業部", "マーケティング部", "情報システム部", "経営企画部", "総務部", "人事部", "経理部",
    "購買部", "営業企画部",
)  # fmt: skip
INDUSTRY_DEPARTMENTS = {
    "E": ("製造部", "生産管理部", "品質保証部"),
    "D": ("工務部",),
    "G": ("開発部",),
}

# Prefecture code -> the area code of its capital (固定電話の市外局番).
AREA_CODES = {
    "01": "011", "02": "017", "03": "019", "04": "022", "05": "018", "06": "023", "07": "024",
    "08": "029", "09": "028", "10": "027", "11": "048", "12": "043", "13": "03", "14": "045",
    "15": "025", "16": "076", "17": "076", "18": "0776", "19": "055", "20": "026", "21": "058",
    "22": "054", "23": "052", "24": "059", "25": "077", "26": "075", "27": "06", "28": "078",
    "29": "0742", "30": "073", "31": "0857", "32": "0852", "33": "086", "34": "082", "35": "083",
    "36": "088", "37": "087", "38": "089", "39": "088", "40": "092", "41": "0952", "42": "095",
    "43": "096", "44": "097", "45": "0985", "46": "099", "47": "098",
}  # fmt: skip
TOTTORI_AREA_CODES = (("米子", "0859"), ("境港", "0859"), ("西伯", "0859"), ("日野", "0859"),
                      ("倉吉", "0858"), ("東伯", "0858"))  # fmt: skip

# The site being visited is our own (fictional) SaaS vendor's: url, title.
ADMIN_PAGES = (
    ("/", "トップページ"), ("/company/about", "会社概要"), ("/company/access", "アクセス"),
    ("/news", "お知らせ"), ("/contact", "お問い合わせ"), ("/company/partners", "パートナー企業"),
)  # fmt: skip
INFO_PAGES = (
    ("/blog/sales-marketing-alignment", "営業とマーケティングの連携を強化する7つのステップ"),
    ("/blog/lead-scoring-basics", "リードスコアリング入門"),
    ("/blog/inside-sales-kpi", "インサイドセールスのKPI設計"),
    ("/blog/generative-ai-sales", "生成AIで変わる営業現場"),
    ("/case-studies/manufacturing", "導入事例：中堅製造業の営業DX"),
    ("/case-studies/it-services", "導入事例：ITサービス企業の商談化率改善"),
    ("/case-studies/wholesale", "導入事例：専門商社の休眠顧客掘り起こし"),
    ("/resources/dx-guide-2026", "DX推進ガイド2026"),
)  # fmt: skip
PRODUCT_PAGES = (
    ("/products/crm", "CRM 製品紹介"), ("/products/ma", "MA（マーケティングオートメーション）"),
    ("/products/sfa", "SFA 製品紹介"), ("/features/lead-scoring", "機能：リードスコアリング"),
    ("/features/handoff", "機能：MQL引き渡し"), ("/features/analytics", "機能：分析ダッシュボード"),
    ("/integrations", "連携サービス一覧"), ("/security", "セキュリティへの取り組み"),
    ("/pricing", "料金プラン"), ("/faq", "よくあるご質問"),
)  # fmt: skip
CONVERSIONS = (
    (Activity.Kind.FORM_SUBMISSION, 45, "/contact/thanks", "お問い合わせ・資料請求"),
    (Activity.Kind.DEMO_REQUEST, 30, "/demo/thanks", "デモのお申し込み"),
    (Activity.Kind.PRICING_REQUEST, 25, "/pricing/quote/thanks", "お見積り依頼"),
)
WHITEPAPERS = (
    ("/resources/dx-guide-2026", "DX推進ガイド2026"),
    ("/resources/inside-sales-playbook", "インサイドセールス立ち上げ完全ガイド"),
    ("/resources/ma-checklist", "MA導入チェックリスト"),
    ("/resources/abm-whitepaper", "ABM実践ホワイトペーパー"),
    ("/resources/genai-use-cases", "生成AI活用事例集 2026"),
    ("/resources/sfa-adoption", "SFA定着化のポイント"),
)
CASE_STUDIES = INFO_PAGES[4:7]
# days ago, campaign name ({m} = its month), slug, landing url, landing title
EMAIL_CAMPAIGNS = (
    (116, "{m}月号 メールマガジン", "newsletter", *INFO_PAGES[0]),
    (102, "ウェビナー案内：営業×マーケ連携", "webinar-invite", "/webinars/alignment", "ウェビナー申込"),
    (88, "ホワイトペーパー：DX推進ガイド2026", "wp-dx-guide", *WHITEPAPERS[0]),
    (74, "{m}月号 メールマガジン", "newsletter", *INFO_PAGES[1]),
    (60, "導入事例のご紹介", "case-study", *CASE_STUDIES[0]),
    (46, "ウェビナー案内：生成AIとインサイドセールス", "webinar-invite", "/webinars/genai", "ウェビナー申込"),
    (32, "{m}月号 メールマガジン", "newsletter", *INFO_PAGES[3]),
    (18, "展示会のご案内：営業DX EXPO 2026【秋】", "expo-invite", "/events/expo", "展示会のご案内"),
    (6, "新機能のお知らせ：商談予測", "release", *PRODUCT_PAGES[5]),
)  # fmt: skip
WEBINARS = (
    (98, "営業×マーケ連携ウェビナー 〜MQLからSQLへ〜", "/webinars/alignment"),
    (63, "生成AIで変わるインサイドセールス", "/webinars/genai"),
    (35, "データドリブン営業の始め方", "/webinars/data-driven-sales"),
    (9, "製造業の営業DX最前線", "/webinars/manufacturing-dx"),
)
EVENTS = ((80, "営業DX EXPO 2026【秋】"), (24, "関西 セールス＆マーケティング展 2026"))
# UCI TrafficType (1-20) has no published meaning; we map it onto plausible channels.
CHANNELS = (
    ("google", "organic"), ("google", "cpc"), ("(direct)", "(none)"), ("newsletter", "email"),
    ("yahoo", "organic"), ("facebook", "social"), ("linkedin", "social"), ("partner", "referral"),
    ("bing", "organic"), ("x", "social"),
)  # fmt: skip
INTENT_TOPICS = (
    "CRM", "MA（マーケティングオートメーション）", "SFA", "営業DX", "データ分析", "クラウド移行",
    "セキュリティ", "ERP", "生成AI", "BIツール", "インサイドセールス", "ABM", "カスタマーサクセス",
    "ゼロトラスト", "RPA", "電子契約", "Web会議", "Customer Data Platform", "Sales Enablement",
)  # fmt: skip
INTENT_BY_INDUSTRY = {
    "E": ("ERP", "IoT", "生産管理", "サプライチェーン"),
    "G": ("クラウド移行", "セキュリティ", "生成AI", "DevOps"),
    "I": ("EC", "在庫管理", "CRM"),
    "D": ("施工管理", "BIM", "電子契約"),
    "P": ("電子カルテ", "セキュリティ"),
}


# JSIC middle codes 01-99 by division (the code list's own major_code, restated).
_JSIC_RANGES = (
    ("A", 1, 2), ("B", 3, 4), ("C", 5, 5), ("D", 6, 8), ("E", 9, 32), ("F", 33, 36),
    ("G", 37, 41), ("H", 42, 49), ("I", 50, 61), ("J", 62, 67), ("K", 68, 70),
    ("L", 71, 74), ("M", 75, 77), ("N", 78, 80), ("O", 81, 82), ("P", 83, 85),
    ("Q", 86, 87), ("R", 88, 96), ("S", 97, 98), ("T", 99, 99),
)  # fmt: skip
JSIC_DIVISION_OF_MIDDLE = {
    f"{n:02d}": division for division, low, high in _JSIC_RANGES for n in range(low, high + 1)
}
# Katakana -> passport-style Hepburn, for e-mail addresses (people.kana_to_romaji).
KANA_ROMAJI = dict(
    _pairs(
        "ア:a イ:i ウ:u エ:e オ:o カ:ka キ:ki ク:ku ケ:ke コ:ko ガ:ga ギ:gi グ:gu ゲ:ge ゴ:go "
        "サ:sa シ:shi ス:su セ:se ソ:so ザ:za ジ:ji ズ:zu ゼ:ze ゾ:zo タ:ta チ:chi ツ:tsu テ:te "
        "ト:to ダ:da ヂ:ji ヅ:zu デ:de ド:do ナ:na ニ:ni ヌ:nu ネ:ne ノ:no ハ:ha ヒ:hi フ:fu "
        "ヘ:he ホ:ho バ:ba ビ:bi ブ:bu ベ:be ボ:bo パ:pa ピ:pi プ:pu ペ:pe ポ:po マ:ma ミ:mi "
        "ム:mu メ:me モ:mo ヤ:ya ユ:yu ヨ:yo ラ:ra リ:ri ル:ru レ:re ロ:ro ワ:wa ヲ:o ン:n ー:"
    )
)


def seeded_rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512: stable across processes and runs.
    return random.Random(":".join(str(p) for p in (SEED, *parts)))
