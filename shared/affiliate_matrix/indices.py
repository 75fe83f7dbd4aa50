"""Every index the code writes, by name: what `amx index` and the migrate action work on."""


def index_specs() -> dict:
    from affiliate_matrix.query_log import QUERIES_INDEX
    from affiliate_matrix.budget.mirror import BUDGET_INDEX
    from affiliate_matrix.deltas import DELTAS_INDEX
    from affiliate_matrix.observability.figures import METRICS_INDEX
    from affiliate_matrix.program_index import PROGRAMS_INDEX
    from affiliate_matrix.rules.store import ACTIVATIONS_INDEX, ALERTS_INDEX

    return {spec.name: spec for spec in (PROGRAMS_INDEX, DELTAS_INDEX, METRICS_INDEX, BUDGET_INDEX,
                                         ACTIVATIONS_INDEX, ALERTS_INDEX, QUERIES_INDEX)}
