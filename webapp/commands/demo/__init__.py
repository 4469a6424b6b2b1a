"""`flask demo`: the demo organisations and sign-ins, plus about 300 synthetic firms spread over
Zhejiang's cities, industries and sizes. Idempotent: running it twice changes nothing.

`assessments.py` gives the demo firm its rounds of answers and evidence; `statistics.py` gives the
synthetic firms the submitted results the regulator's statistics read."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp import db, tenancy
from webapp.auth.util import hash_password
from webapp.commands.demo import assessments, statistics
from webapp.db import utcnow
from webapp.models import Consultancy, ConsultancyGrant, Firm, Membership, Regulator, User
from webapp.questionnaire import answers
from webapp.refdata import credit_code, regions, sizes

PASSWORD = "demo-pass-2026"
SEED = 20261122
SYNTHETIC_FIRMS = 300


@dataclass(frozen=True)
class DemoFirm:
    key: str
    name: str
    region: str
    division: str
    employees: int
    revenue_10k: Decimal
    above_scale: bool
    founded: dt.date


DEMO_FIRMS = (
    DemoFirm("hz", "杭州精工阀门有限公司", "330110", "34", 420, Decimal("36000"), True, dt.date(2008, 5, 12)),
    DemoFirm(
        "sx", "绍兴柯桥华纺印染有限公司", "330603", "17", 260, Decimal("18500"), True, dt.date(2003, 9, 1)
    ),
    DemoFirm(
        "nb", "宁波海曙智联电子科技有限公司", "330203", "39", 85, Decimal("4200"), False, dt.date(2015, 3, 20)
    ),
)

SIGNINS = (
    ("firm@demo.qready.cn", "王丽 Wang Li", "firm"),
    ("consultant@demo.qready.cn", "陈明 Chen Ming", "consultant"),
    ("regulator@demo.qready.cn", "赵刚 Zhao Gang", "regulator"),
    ("admin@demo.qready.cn", "平台管理员 Admin", "admin"),
)

# Manufacturing divisions weighted towards Zhejiang's large sectors, plus some services.
DIVISIONS = (
    ["34"] * 9
    + ["38"] * 9
    + ["39"] * 7
    + ["17"] * 8
    + ["18"] * 5
    + ["26"] * 5
    + ["29"] * 6
    + ["33"] * 6
    + ["35"] * 6
    + ["36"] * 6
    + ["13"] * 3
    + ["14"] * 2
    + ["19"] * 2
    + ["21"] * 3
    + ["27"] * 3
    + ["30"] * 2
    + ["31"] * 2
    + ["32"] * 2
    + ["40"] * 2
    + ["41"] * 1
    + ["47"] * 2
    + ["51"] * 2
    + ["52"] * 2
    + ["65"] * 3
    + ["72"] * 1
    + ["74"] * 2
)
CITY_WEIGHTS = {
    "330100": 18, "330200": 14, "330300": 12, "330400": 9, "330500": 6, "330600": 9,
    "330700": 10, "330800": 4, "330900": 3, "331000": 10, "331100": 5,
}  # fmt: skip
NAME_PARTS = (
    [
        "恒",
        "华",
        "宏",
        "瑞",
        "鑫",
        "新",
        "康",
        "嘉",
        "永",
        "盛",
        "金",
        "泰",
        "天",
        "卓",
        "明",
        "远",
        "正",
        "信",
    ],
    [
        "达",
        "丰",
        "源",
        "力",
        "通",
        "创",
        "科",
        "诚",
        "联",
        "辰",
        "业",
        "禾",
        "峰",
        "成",
        "海",
        "博",
        "越",
        "安",
    ],
)
TRADES = {
    "13": "食品", "14": "食品", "17": "纺织", "18": "服饰", "19": "皮革", "21": "家具", "26": "化工",
    "27": "医药", "29": "塑胶", "30": "建材", "31": "钢业", "32": "金属材料", "33": "五金", "34": "机械",
    "35": "装备", "36": "汽车部件", "38": "电气", "39": "电子", "40": "仪器仪表", "41": "工艺品",
    "47": "建设", "51": "贸易", "52": "商贸", "65": "软件", "72": "企业管理", "74": "检测技术",
}  # fmt: skip


def _user(email: str, name: str, *, admin: bool = False) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(PASSWORD),
        email_verified_at=utcnow(),
        is_platform_admin=admin,
        locale="zh",
    )
    db.session.add(user)
    db.session.flush()
    return user, True


def _firm(rng: random.Random, spec: DemoFirm, *, synthetic: bool) -> tuple[Firm, bool]:
    code = credit_code.generate(rng, spec.region)  # always drawn: the next firm's code stays the same
    # Found again by its credit code, which the seed fixes: a demo firm renamed since still is the same
    # firm (looking it up by name would insert it twice and fail on the unique credit code).
    existing = db.session.scalar(select(Firm).where(Firm.credit_code == code))
    if existing is not None:
        return existing, False
    size = sizes.classify(spec.division, spec.employees, spec.revenue_10k, spec.revenue_10k * 2)
    firm = Firm(
        name=spec.name,
        credit_code=code,
        region_code=spec.region,
        industry_division=spec.division,
        employees=spec.employees,
        revenue_10k=spec.revenue_10k,
        total_assets_10k=spec.revenue_10k * 2,
        size_class=size.size_class,
        above_scale=spec.above_scale,
        founded_on=spec.founded,
        synthetic=synthetic,
    )
    db.session.add(firm)
    db.session.flush()
    return firm, True


def _member(user: User, role: str, **org: int) -> None:
    q = select(Membership).where(Membership.user_id == user.id)
    for key, value in org.items():
        q = q.where(getattr(Membership, key) == value)
    if db.session.scalar(q) is None:
        db.session.add(Membership(user_id=user.id, role=role, **org))


def _synthetic_specs(rng: random.Random) -> list[DemoFirm]:
    cities = list(CITY_WEIGHTS)
    weights = [CITY_WEIGHTS[c] for c in cities]
    specs = []
    seen: set[str] = set()
    while len(specs) < SYNTHETIC_FIRMS:
        city = rng.choices(cities, weights)[0]
        county = rng.choice(regions.counties(city)).code
        division = rng.choice(DIVISIONS)
        # Sizes: many small and micro firms, fewer medium and large, as in the real population.
        band = rng.choices(["micro", "small", "medium", "large"], [30, 45, 20, 5])[0]
        employees, revenue = {
            "micro": (rng.randint(3, 19), rng.randint(50, 290)),
            "small": (rng.randint(20, 299), rng.randint(300, 1990)),
            "medium": (rng.randint(300, 999), rng.randint(2000, 39000)),
            "large": (rng.randint(1000, 6000), rng.randint(40000, 400000)),
        }[band]
        city_name = regions.name(city, "zh").removesuffix("市")
        name = f"{city_name}{rng.choice(NAME_PARTS[0])}{rng.choice(NAME_PARTS[1])}{TRADES[division]}有限公司"
        if name in seen:
            continue
        seen.add(name)
        founded = dt.date(rng.randint(1988, 2023), rng.randint(1, 12), rng.randint(1, 28))
        specs.append(
            DemoFirm("", name, county, division, employees, Decimal(revenue), revenue >= 2000, founded)
        )
    return specs


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load the demo organisations, sign-ins and synthetic firms (idempotent). Refused in production."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "flask demo does not run with QREADY_ENV=production: it would create sign-ins with the "
            f"published password {PASSWORD!r} (a platform admin among them). Load demo data only into "
            "a development or demo database."
        )
    rng = random.Random(SEED)
    created = 0
    with tenancy.bypass():
        users = {}
        for email, name, role in SIGNINS:
            users[role], new = _user(email, name, admin=role == "admin")
            created += new
        firms = {}
        for spec in DEMO_FIRMS:
            firms[spec.key], new = _firm(rng, spec, synthetic=False)
            created += new
        _member(users["firm"], "owner", firm_id=firms["hz"].id)
        for key, email, name in (
            ("sx", "owner.sx@demo.qready.cn", "孙伟 Sun Wei"),
            ("nb", "owner.nb@demo.qready.cn", "李娜 Li Na"),
        ):
            owner, new = _user(email, name)
            created += new
            _member(owner, "owner", firm_id=firms[key].id)

        consultancy = db.session.scalar(select(Consultancy).where(Consultancy.code == "ZJQC2026"))
        if consultancy is None:
            consultancy = Consultancy(name="浙江卓越质量管理咨询有限公司", code="ZJQC2026")
            db.session.add(consultancy)
            db.session.flush()
            created += 1
        _member(users["consultant"], "owner", consultancy_id=consultancy.id)
        for key in ("hz", "sx"):
            q = select(ConsultancyGrant).where(
                ConsultancyGrant.firm_id == firms[key].id, ConsultancyGrant.consultancy_id == consultancy.id
            )
            if db.session.scalar(q) is None:
                db.session.add(ConsultancyGrant(firm_id=firms[key].id, consultancy_id=consultancy.id))

        regulator = db.session.scalar(select(Regulator).where(Regulator.jurisdiction_code == "330100"))
        if regulator is None:
            regulator = Regulator(name="杭州市市场监督管理局", jurisdiction_code="330100")
            db.session.add(regulator)
            db.session.flush()
            created += 1
        _member(users["regulator"], "owner", regulator_id=regulator.id)

        created += assessments.load(firms["hz"], users["firm"])

        for spec in _synthetic_specs(rng):
            firm, new = _firm(rng, spec, synthetic=True)
            shares = rng.random() < 0.9  # drawn every time: a second run draws the same credit codes
            if new:
                firm.share_statistics = shares  # most agreed to be counted in the statistics
                created += 1
        created += statistics.load(today=answers.today())
        db.session.commit()
    click.echo(f"Demo data ready ({created} rows created). Sign in with any of:")
    for email, _name, role in SIGNINS:
        click.echo(f"  {role:<10} {email}  /  {PASSWORD}")
