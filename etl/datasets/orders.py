"""E-commerce orders of farm products."""

from etl.dataset import Dataset, Measure, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import orders

DATASET = Dataset(
    name="orders",
    table=orders,
    fields=fact_fields(
        order_id=text(required=True),
        product=text(required=True),
        quantity=number(low=0),
        amount=number(required=True, low=0),
    ),
    measures=(Measure("ecommerce.sales", value="amount", dimension="product"),),
)
