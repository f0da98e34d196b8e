"""The default sales pipeline, seeded by migration and re-seeded by tests that flush."""

DEFAULT_STAGES = [
    # code, 中文, English, order, default probability, won, lost
    ("initial", "初步接洽", "Initial contact", 10, 10, False, False),
    ("needs", "需求确认", "Needs confirmed", 20, 25, False, False),
    ("proposal", "方案报价", "Proposal / quote", 30, 50, False, False),
    ("negotiation", "谈判", "Negotiation", 40, 75, False, False),
    ("won", "赢单", "Won", 90, 100, True, False),
    ("lost", "输单", "Lost", 99, 0, False, True),
]


def ensure_default_stages(stage_model=None) -> None:
    """Create the default stages that are missing; never changes configured ones."""
    if stage_model is None:
        from .models import Stage as stage_model
    for code, name_zh, name_en, position, probability, won, lost in DEFAULT_STAGES:
        stage_model.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "position": position,
                "probability": probability,
                "is_won": won,
                "is_lost": lost,
            },
        )
