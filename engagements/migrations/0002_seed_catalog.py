"""Seed the catalog exactly as SPEC §2–3 (the vendor's Table 1 and Table 2)."""

from django.db import migrations

FUNCTIONS = [
    ("customer_enablement", "Customer enablement", "Training on the vendor's tools and processes."),
    ("service_review", "Service review", "Performance trends and analysis."),
    ("maintenance", "Maintenance", "Planning and scheduling."),
    (
        "upgrade_planning",
        "Upgrade planning",
        "Drive the strategy and schedule it with the customer.",
    ),
    (
        "root_cause_analysis",
        "Root cause analysis",
        "For critical severity-0 outages: review and deliver key findings and corrective actions.",
    ),
    (
        "customer_intelligence",
        "Customer intelligence management",
        "Situational awareness of the customer's roadmap, use cases and priorities.",
    ),
    (
        "product_roadmap",
        "Product roadmap and supportability",
        "Communicate service strategy and roadmap, including major announcements.",
    ),
    (
        "release_management",
        "Release management",
        "Oversee and coordinate platform, software and architecture changes.",
    ),
    (
        "customer_advocacy",
        "Customer advocacy",
        "Advocate for the customer inside the vendor's ecosystem to drive service improvements.",
    ),
    (
        "vendor_spokesperson",
        "Vendor spokesperson",
        "Represent the customer's interests and relay important vendor developments and initiatives.",
    ),
    (
        "risk_mitigation",
        "Risk mitigation",
        "Oversee customer-specific mitigation plans with the vendor's teams.",
    ),
    (
        "software_performance_reports",
        "Software performance reports",
        "Prioritize and coordinate fixes of the vendor's software.",
    ),
    (
        "environment_consulting",
        "Environment consulting",
        "Coordinate activities that ensure system performance.",
    ),
    (
        "escalation_management",
        "Escalation management",
        "First point of contact for critical operational issues; leads the resolution plan of "
        "high-impact events.",
    ),
    ("case_management", "Case management", "Prioritize incidents, review status and trends."),
]

PLANS = [
    # code, name, deployment, pricing, response target (business days), weekly call
    ("tsam", "Technical Support Account Manager", "on_prem", "add_on", 1, True),
    ("standard", "SaaS Standard Service Management", "saas", "included", 2, False),
    ("premium", "SaaS Premium Service Management", "saas", "add_on", 1, True),
]

MATRIX = {
    "tsam": [
        "customer_enablement",
        "service_review",
        "root_cause_analysis",
        "customer_intelligence",
        "product_roadmap",
        "customer_advocacy",
        "vendor_spokesperson",
        "risk_mitigation",
        "software_performance_reports",
        "escalation_management",
        "case_management",
    ],
    "standard": [
        "customer_enablement",
        "service_review",
        "maintenance",
        "upgrade_planning",
        "root_cause_analysis",
        "customer_intelligence",
        "product_roadmap",
        "release_management",
    ],
    "premium": [code for code, _name, _text in FUNCTIONS],
}

STANDARD = {
    "customer_enablement": (["self_paced"], "as_needed"),
    "service_review": (["video"], "quarterly"),
    "maintenance": (["email"], "as_needed"),
    "upgrade_planning": (["video"], "as_needed"),
    "root_cause_analysis": (["email"], "as_needed"),
    "customer_intelligence": (["email"], "quarterly"),
    "product_roadmap": (["email"], "quarterly"),
    "release_management": (["email"], "as_needed"),
}
PREMIUM = {
    "customer_enablement": (["in_person", "video"], "as_needed"),
    "service_review": (["in_person", "video"], "monthly"),
    "maintenance": (["video", "email", "phone"], "as_needed"),
    "upgrade_planning": (["in_person", "video"], "as_needed"),
    "root_cause_analysis": (["video", "phone"], "as_needed"),
    "customer_intelligence": (["video", "email", "phone"], "weekly"),
    "product_roadmap": (["in_person", "video"], "monthly"),
    "release_management": (["in_person", "video"], "as_needed"),
}
# The seed gives TSAM no Table 2 column: it takes the Premium column for what its plan includes.
CADENCES = {
    "standard": STANDARD,
    "premium": PREMIUM,
    "tsam": {code: value for code, value in PREMIUM.items() if code in MATRIX["tsam"]},
}


def record_history(apps, model_name, instance):
    """A "+" history row, so the first later change shows what the seed said before it."""
    from django.utils import timezone

    try:
        historical = apps.get_model("engagements", f"Historical{model_name}")
    except LookupError:  # the current models (tests re-seed with them): no history tables
        return
    if historical.objects.filter(id=instance.pk).exists():
        return
    values = {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }
    historical.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="+",
        history_change_reason="Seeded from SPEC §2-3",
    )


def seed(apps, schema_editor):
    ServiceFunction = apps.get_model("engagements", "ServiceFunction")
    Plan = apps.get_model("engagements", "Plan")
    Entitlement = apps.get_model("engagements", "Entitlement")
    Cadence = apps.get_model("engagements", "Cadence")
    functions = {}
    for position, (code, name, description) in enumerate(FUNCTIONS):
        functions[code], _ = ServiceFunction.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "position": position}
        )
        record_history(apps, "ServiceFunction", functions[code])
    for position, (code, name, deployment, pricing, target, weekly_call) in enumerate(PLANS):
        plan, _ = Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "deployment": deployment,
                "pricing": pricing,
                "response_target_business_days": target,
                "max_contacts": 3,
                "weekly_hours_cap": 10,
                "max_open_cases_per_manager": 30,
                "weekly_call": weekly_call,
                "position": position,
            },
        )
        record_history(apps, "Plan", plan)
        for function_code in MATRIX[code]:
            entitlement, _ = Entitlement.objects.get_or_create(
                plan=plan, function=functions[function_code]
            )
            record_history(apps, "Entitlement", entitlement)
        for deliverable, (methods, frequency) in CADENCES[code].items():
            cadence, _ = Cadence.objects.get_or_create(
                plan=plan,
                deliverable=functions[deliverable],
                defaults={"methods": methods, "frequency": frequency},
            )
            record_history(apps, "Cadence", cadence)


class Migration(migrations.Migration):
    dependencies = [("engagements", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
