"""Demo leads: about sixty, across statuses, sources, industries and territories."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from leads import services
from leads.models import Lead, LeadRoutingConfig, WebToLeadForm
from salesapp.demo import register_loader

FIRST = ["Alice", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam",
         "Mona", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ito", "Jensen", "Khan",
        "López", "Müller", "Novak", "O'Brien", "Patel", "Rossi", "Schmidt", "Tanaka", "Weber"]
COMPANIES = [
    ("Northwind Analytics", "technology", "northwind-analytics.example"),
    ("Bluepeak Software Inc.", "software", "bluepeak.example"),
    ("Harbor Health Group", "healthcare", "harborhealth.example"),
    ("Ironclad Manufacturing GmbH", "manufacturing", "ironclad.example"),
    ("Summit Financial Ltd", "financial services", "summitfin.example"),
    ("Cedar Retail Co", "retail", "cedar-retail.example"),
    ("Quantum Telecom", "telecommunications", "quantumtel.example"),
    ("Brightpath Learning", "education", "brightpath.example"),
    ("Vertex Consulting LLC", "professional services", "vertexconsult.example"),
    ("Orbit Cloud Systems", "technology", "orbitcloud.example"),
    ("Greenfield Energy Partners", "energy", "greenfield-energy.example"),
    ("Meridian Freight", "logistics", "meridianfreight.example"),
    ("Pinecrest Hospitality Group", "hospitality", "pinecrest.example"),
    ("Atlas Construction Co.", "construction", "atlasbuild.example"),
    ("Lumen Media House", "media", "lumenmedia.example"),
    ("Riverbend Credit Union", "financial services", "riverbendcu.example"),
    ("Sable Biotech", "healthcare", "sablebio.example"),
    ("Kestrel Robotics", "manufacturing", "kestrel-robotics.example"),
    ("Halcyon Insurance", "financial services", "halcyon-ins.example"),
    ("Nimbus Data Ltd", "software", "nimbusdata.example"),
]
PLACES = [("US", "CA", "94105"), ("US", "CA", "90012"), ("US", "WA", "98101"), ("US", "OR", "97201"),
          ("US", "NY", "10001"), ("US", "MA", "02108"), ("US", "TX", "73301"), ("US", "IL", "60601"),
          ("DE", "", "10115"), ("GB", "", "EC1A"), ("FR", "", "75001"), ("CA", "ON", "M5H")]
SOURCES = ["web", "referral", "event", "partner", "cold outreach", "webinar"]
TITLES = ["CTO", "VP Engineering", "Head of Sales", "IT Director", "Operations Manager", "Analyst", "Founder",
          "Procurement Lead", "CFO", "Engineer"]
# (status, how many): the rest stay new
PLAN = [("contacted", 12), ("qualified", 8), ("unqualified", 8), ("converted", 8)]


def load(users: dict) -> None:
    rng = random.Random(30)
    manager = users["manager"]
    LeadRoutingConfig.objects.get_or_create(pk=1, defaults={"queue_name": "Unassigned leads",
                                                            "default_owner": manager})
    WebToLeadForm.objects.get_or_create(key="contact-us", defaults={
        "name": "Website contact form", "source": "web: contact us",
        "allowed_origins": "https://www.example.com\nhttp://localhost:8000"})
    now = timezone.now()
    leads = []
    for i in range(60):
        company, industry, domain = COMPANIES[i % len(COMPANIES)]
        country, state, postal = PLACES[(i * 7) % len(PLACES)]
        first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
        lead = services.lead_create(
            actor=manager,
            first_name=first, last_name=last,
            email=f"{first.lower().replace('é', 'e')}.{i}@{domain}",
            phone=f"+1 555 01{i:02d} {rng.randint(1000, 9999)}",
            company=company,
            title=rng.choice(TITLES), industry=industry,
            employee_count=rng.choice([12, 45, 120, 380, 900, 2500, 12000]),
            annual_revenue=Decimal(rng.choice([800_000, 4_000_000, 25_000_000, 120_000_000, 600_000_000])),
            website=f"https://www.{domain}", country=country, state=state, postal_code=postal,
            source=SOURCES[i % len(SOURCES)], created_at=now - timedelta(days=rng.randint(0, 75), hours=i),
        )
        leads.append(lead)
    index = 0
    for status, count in PLAN:
        for lead in leads[index:index + count]:
            _advance(lead, status, manager, rng)
        index += count


def _advance(lead: Lead, status: str, actor, rng) -> None:
    services.lead_transition(actor=actor, lead=lead, to_status="contacted")
    if status == "contacted":
        return
    if status == "unqualified":
        services.lead_transition(actor=actor, lead=lead, to_status="unqualified",
                                 note="no budget this year")
        return
    services.lead_qualify(actor=actor, lead=lead, note="budget and need confirmed")
    if status == "converted":
        services.lead_convert(actor=actor, lead=lead, amount=Decimal(rng.choice([15000, 40000, 90000, 250000])),
                              expected_close_date=(timezone.now() + timedelta(days=rng.randint(20, 120))).date())


def register() -> None:
    register_loader(30, "leads", load)
