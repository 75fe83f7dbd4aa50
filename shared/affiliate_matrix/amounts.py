"""A figure's one form, held once for the models (model_types.NonNegative) and the sources (sources.amount), here
because the sources import no pydantic (cold starts), which model_types is built on."""

from decimal import Decimal


def plain(amount: Decimal) -> Decimal:
    """An amount without trailing zeros (130.00 → 130, 12.50 → 12.5, never 1.3E+2) or a sign on zero (-0 → 0): two
    sources writing one figure differently agree, show alike, and a source rewriting it changes nothing."""
    if amount == 0:
        return Decimal(0)
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
