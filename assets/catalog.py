# The master catalog asset: what every shop is reconciled against.
"""The `master_catalog` asset (unpartitioned)."""

import dagster as dg
import polars as pl

from assets.resources import DatabaseResource
from syncstore.plan import reconcile


@dg.asset(group_name="catalog", kinds={"polars"})
def master_catalog(context: dg.AssetExecutionContext, database: DatabaseResource) -> dg.MaterializeResult[None]:
    """The master catalog: products and variants with price and stock, the desired state every shop is reconciled
    against. Edited in the Streamlit app; each edit also reaches the shops through the outbox (`push_changes`)."""
    variants = reconcile.load_variants(database.get_engine())
    active = variants.filter((pl.col("product_status") == "active") & pl.col("variant_active"))
    sold_out = active.filter(pl.col("available") <= 0)
    by_category = active.group_by("category").agg(pl.len().alias("variants")).sort("variants", descending=True).head(10)
    table = "\n".join(
        ["| category | active variants |", "|---|---|"]
        + [f"| {category} | {count} |" for category, count in by_category.iter_rows()]
    )
    context.log.info("master catalog: %d variants, %d active", variants.height, active.height)
    return dg.MaterializeResult(
        metadata={
            "products": dg.MetadataValue.int(variants["product_id"].n_unique()),
            "variants": dg.MetadataValue.int(variants.height),
            "active_variants": dg.MetadataValue.int(active.height),
            "units_available": dg.MetadataValue.int(int(active["available"].clip(lower_bound=0).sum())),
            "sold_out_variants": dg.MetadataValue.int(sold_out.height),
            "top_categories": dg.MetadataValue.md(table),
        }
    )
