"""Name the seeded catalog in Korean too, from the vendor's original Korean service description
(../shared/seed: "표 1: 서비스 기능", "표 2"), in the portal's vocabulary (케이스, not 사례; the
vendor is 공급업체 as everywhere in the portal, not a brand).

A Korean name is filled only where it is still empty and the English text is still the one the
catalog was seeded with: a row an admin renamed keeps its own wording (and shows it in English
until someone gives the Korean).
"""

from django.db import migrations

# code: (English name as seeded, Korean name, English description as seeded, Korean description)
FUNCTIONS = {
    "customer_enablement": (
        "Customer enablement",
        "고객 지원",
        "Training on the vendor's tools and processes.",
        "공급업체의 도구 및 프로세스 교육",
    ),
    "service_review": (
        "Service review",
        "서비스 검토",
        "Performance trends and analysis.",
        "성능 트렌드 및 분석 제공",
    ),
    "maintenance": (
        "Maintenance",
        "유지보수",
        "Planning and scheduling.",
        "계획 수립 및 일정 관리",
    ),
    "upgrade_planning": (
        "Upgrade planning",
        "업그레이드 계획 수립",
        "Drive the strategy and schedule it with the customer.",
        "전략 추진 및 고객과의 일정 예약",
    ),
    "root_cause_analysis": (
        "Root cause analysis",
        "근본 원인 분석",
        "For critical severity-0 outages: review and deliver key findings and corrective actions.",
        "중대한 심각도 0 중단: 주요 결과와 시정 조치 검토 및 전달",
    ),
    "customer_intelligence": (
        "Customer intelligence management",
        "고객 인텔리전스 관리",
        "Situational awareness of the customer's roadmap, use cases and priorities.",
        "고객의 로드맵, 사용 사례 및 우선순위에 따른 상황별 인식 제공",
    ),
    "product_roadmap": (
        "Product roadmap and supportability",
        "제품 로드맵 및 지원 가능성",
        "Communicate service strategy and roadmap, including major announcements.",
        "주요 발표를 포함한 서비스 전략 및 로드맵에 대한 의사소통",
    ),
    "release_management": (
        "Release management",
        "릴리스 관리",
        "Oversee and coordinate platform, software and architecture changes.",
        "플랫폼, 소프트웨어, 아키텍처 변경 사항의 구현 감독 및 조정",
    ),
    "customer_advocacy": (
        "Customer advocacy",
        "고객 옹호",
        "Advocate for the customer inside the vendor's ecosystem to drive service improvements.",
        "공급업체 에코시스템 내에서 서비스 개선을 이끌어 낼 수 있도록 고객을 옹호하는 역할 수행",
    ),
    "vendor_spokesperson": (
        "Vendor spokesperson",
        "공급업체 대변인",
        "Represent the customer's interests and relay important vendor developments and "
        "initiatives.",
        "고객의 이익 대변 및 공급업체의 발전과 이니셔티브에 관한 중요한 정보 전달",
    ),
    "risk_mitigation": (
        "Risk mitigation",
        "위험 완화",
        "Oversee customer-specific mitigation plans with the vendor's teams.",
        "공급업체 팀과 함께 고객별 완화 계획 감독",
    ),
    "software_performance_reports": (
        "Software performance reports",
        "소프트웨어 성능 보고서",
        "Prioritize and coordinate fixes of the vendor's software.",
        "공급업체 소프트웨어 수정의 우선순위 지정 및 조정",
    ),
    "environment_consulting": (
        "Environment consulting",
        "환경 컨설팅",
        "Coordinate activities that ensure system performance.",
        "시스템 성능을 보장하기 위한 활동 조정",
    ),
    "escalation_management": (
        "Escalation management",
        "에스컬레이션 관리",
        "First point of contact for critical operational issues; leads the resolution plan of "
        "high-impact events.",
        "중대한 운영 문제의 1차 연락 담당자로서 영향이 큰 이벤트의 해결 계획 실행 주도",
    ),
    "case_management": (
        "Case management",
        "케이스 관리",
        "Prioritize incidents, review status and trends.",
        "인시던트의 우선순위 관리와 더불어 상태 검토 및 트렌드 제공",
    ),
}

# code: (English name as seeded, Korean name)
PLANS = {
    "tsam": ("Technical Support Account Manager", "기술 지원 어카운트 매니저(TSAM)"),
    "standard": ("SaaS Standard Service Management", "SaaS 표준 서비스 관리"),
    "premium": ("SaaS Premium Service Management", "SaaS 프리미엄 서비스 관리"),
}


def fill(apps, schema_editor=None):
    """Fill the empty Korean names and descriptions of seeded rows whose English is unchanged.
    Idempotent: the demo seed and the tests' re-seed call it again."""
    ServiceFunction = apps.get_model("engagements", "ServiceFunction")
    Plan = apps.get_model("engagements", "Plan")
    for function in ServiceFunction.objects.filter(code__in=FUNCTIONS):
        name, name_ko, description, description_ko = FUNCTIONS[function.code]
        changed = []
        if not function.name_ko and function.name == name:
            function.name_ko = name_ko
            changed.append("name_ko")
        if not function.description_ko and function.description == description:
            function.description_ko = description_ko
            changed.append("description_ko")
        if changed:
            function.save(update_fields=changed)
    for plan in Plan.objects.filter(code__in=PLANS):
        name, name_ko = PLANS[plan.code]
        if not plan.name_ko and plan.name == name:
            plan.name_ko = name_ko
            plan.save(update_fields=["name_ko"])


class Migration(migrations.Migration):
    dependencies = [("engagements", "0008_catalog_korean_names")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
