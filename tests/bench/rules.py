"""Rule evaluations per second: 1,000 rules over a batch of 10,000 program deltas on one core,
the context built once per delta as the triggers function does."""

import random
import time

from affiliate_matrix.rules.conditions import context_of
from affiliate_matrix.rules.engine import decide, delta_values
from affiliate_matrix.rules.model import Rule

CATEGORIES = ["gaming", "software", "travel", "finance", "pets", "beauty", "vpn_security", "education"]
NETWORKS = ["awin", "impact", "cj", "shareasale", "partnerstack"]


def rules(n: int, rng: random.Random) -> list[Rule]:
    shapes = [
        lambda: f'"{rng.choice(CATEGORIES)}" in program.categories && '
                f'delta.commission_percent_new > delta.commission_percent_old',
        lambda: f"delta.commission_percent_new >= {rng.randint(10, 60)}.0 && program.cookie_days >= {rng.randint(7, 90)}",
        lambda: f'delta.change == "created" && program.networks.exists(n, n == "{rng.choice(NETWORKS)}")',
        lambda: f'"cookie_days" in delta.fields && delta.cookie_days_new < delta.cookie_days_old',
        lambda: f'program.quality_score > {rng.random():.2f} && program.status == "active" && '
                f'"{rng.choice(CATEGORIES)}" in program.categories',
    ]
    return [Rule(id=f"r{i}", trigger={"event": "program.delta"}, condition=rng.choice(shapes)(),
                 action={"type": "alert"}, cooldown_s=3600) for i in range(n)]


def contexts(n: int, rng: random.Random) -> list:
    out = []
    for i in range(n):
        old, new = rng.uniform(5, 40), rng.uniform(5, 40)
        data = {"id": f"d{i}", "program_id": f"p{i}", "change": rng.choice(["created", "updated", "updated"]),
                "source": "awin", "at": "2026-11-22T06:00:00+00:00", "fields": [
                    {"field": "commission", "old": [{"type": "percent", "value_min": f"{old:.1f}"}],
                     "new": [{"type": "percent", "value_min": f"{new:.1f}"}]},
                    {"field": "cookie_days", "old": rng.randint(7, 90), "new": rng.randint(7, 90)}]}
        program = {"id": f"p{i}", "name": f"Program {i}", "status": "active",
                   "categories": rng.sample(CATEGORIES, 2), "networks": rng.sample(NETWORKS, 1),
                   "cookie_days": rng.randint(7, 90), "quality_score": rng.random(),
                   "commission_percent_max": new}
        out.append(context_of({"delta": delta_values(data), "program": program,
                               "event": {"id": f"e{i}", "type": "dev.affiliatematrix.program.delta", "data": data}}))
    return out


def run() -> None:
    rng = random.Random(7)
    rule_set, batch = rules(1_000, rng), contexts(10_000, rng)
    for rule, _ in decide(rule_set, batch[0]):  # compile once, as a warm function would have
        pass
    started = time.process_time()
    fired = errors = 0
    for context in batch:
        for _, outcome in decide(rule_set, context):
            fired += outcome is True
            errors += isinstance(outcome, Exception)
    elapsed = time.process_time() - started
    evaluations = len(rule_set) * len(batch)
    print(f"BENCH rule_evals_per_s {evaluations / elapsed:,.0f} evals/s".replace(",", ""))
    print(f"BENCH rule_fired_share {fired / evaluations:.4f} ratio")
    print(f"BENCH rule_errors {errors} count")
