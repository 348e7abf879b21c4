"""The simulated retail estate: locations, products, suppliers, store ranges, starting stock.

Built deterministically from an `EstateConfig`; the world (`simulator.world`) runs the
business on it. Demand is skewed (a few SKUs sell a lot), so every product carries a
popularity weight, and DC stock levels follow from the expected daily demand.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

REGION_NAMES = ("north", "south", "east", "west", "central", "coast")
CATEGORIES = ("apparel", "footwear", "home", "kitchen", "toys", "garden", "beauty", "electronics")
_ADJECTIVES = ("classic", "soft", "bright", "compact", "everyday", "premium", "outdoor", "mini", "family")
_NOUNS = {
    "apparel": ("t-shirt", "hoodie", "jacket", "jeans", "scarf"),
    "footwear": ("trainer", "boot", "sandal", "slipper"),
    "home": ("cushion", "throw", "lamp", "frame", "candle"),
    "kitchen": ("pan", "mug", "knife set", "kettle", "bowl"),
    "toys": ("puzzle", "building set", "plush bear", "board game"),
    "garden": ("hose", "planter", "trowel", "bird feeder"),
    "beauty": ("shampoo", "face cream", "lip balm", "body wash"),
    "electronics": ("earbuds", "charger", "speaker", "power bank"),
}
UNITS_PER_ORDER = 2.0
"""Average units an online order takes (lines x qty), used to size stock and capacity."""
WALK_IN_LINES_PER_STORE_DAY = 40
"""Till sales a store makes in a day (each one line of one or two units)."""


@dataclass(frozen=True)
class EstateConfig:
    stores: int = 300
    regions: int = 6
    dcs: int = 2
    skus: int = 2000
    suppliers: int = 40
    web_orders_per_day: int = 12000
    marketplace_orders_per_day: int = 4000
    store_orders_per_day: int = 2000  # click & collect / ship-from-store
    seed: int = 7


@dataclass(frozen=True)
class Location:
    location_id: str
    kind: str
    region: str
    name: str
    daily_capacity: int


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    unit_cost: float
    unit_price: float


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    lead_time_days: int
    late_share: float
    """Share of this supplier's deliveries that arrive hours after the ASN's expected time."""


@dataclass
class Estate:
    config: EstateConfig
    locations: list[Location]
    products: list[Product]
    suppliers: list[Supplier]
    popularity: dict[str, float]
    """sku -> share of all demand (sums to 1)."""
    ranges: dict[str, tuple[str, ...]]
    """store id -> the SKUs it sells (a subset); DCs hold every SKU."""
    starting_stock: dict[str, dict[str, int]]
    """location id -> sku -> units on hand at the start."""
    supplier_of: dict[str, str]
    home_dc: dict[str, str]
    """region -> the DC that serves it."""
    by_id: dict[str, Location] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {loc.location_id: loc for loc in self.locations}

    @property
    def stores(self) -> list[Location]:
        return [loc for loc in self.locations if loc.kind == "store"]

    @property
    def dcs(self) -> list[Location]:
        return [loc for loc in self.locations if loc.kind == "dc"]

    @property
    def marketplaces(self) -> list[Location]:
        return [loc for loc in self.locations if loc.kind == "marketplace"]

    @property
    def regions(self) -> list[str]:
        return list(self.home_dc)

    def dc_daily_demand(self, sku: str) -> float:
        """Expected units of `sku` one DC ships a day (online orders and store transfers)."""
        c = self.config
        online = (c.web_orders_per_day + c.marketplace_orders_per_day) * UNITS_PER_ORDER
        stores = c.stores * WALK_IN_LINES_PER_STORE_DAY * 1.15 + c.store_orders_per_day * UNITS_PER_ORDER
        return self.popularity[sku] * (online + stores) / max(1, c.dcs)

    @classmethod
    def build(cls, config: EstateConfig) -> Estate:
        rng = random.Random(f"estate-{config.seed}")
        regions = [
            REGION_NAMES[i] if i < len(REGION_NAMES) else f"region-{i + 1}" for i in range(config.regions)
        ]
        dc_names = [regions[i].upper() if i < len(regions) else f"{i + 1}" for i in range(config.dcs)]
        home_dc = {region: f"DC-{dc_names[i % config.dcs]}" for i, region in enumerate(regions)}
        # a DC is staffed for its share of online orders and of the click & collect the stores cannot serve
        online = (
            config.web_orders_per_day + config.marketplace_orders_per_day + config.store_orders_per_day / 2
        )
        online_per_dc = online / max(1, config.dcs)
        locations = [
            Location(
                f"DC-{name}",
                "dc",
                regions[i % len(regions)],
                f"{name.title()} distribution centre",
                max(10, int(online_per_dc * 1.15)),
            )
            for i, name in enumerate(dc_names)
        ]
        store_capacity = max(5, int(config.store_orders_per_day / max(1, config.stores) * 4))
        for i in range(config.stores):
            region = regions[i % len(regions)]
            capacity = max(3, int(store_capacity * rng.uniform(0.6, 1.4)))
            locations.append(
                Location(f"STORE-{i + 1:04d}", "store", region, f"{region.title()} store {i + 1}", capacity)
            )
        locations.append(Location("MKT-ACME", "marketplace", "national", "Acme marketplace", 0))

        products = []
        for i in range(config.skus):
            category = CATEGORIES[rng.randrange(len(CATEGORIES))]
            noun = rng.choice(_NOUNS[category])
            cost = round(min(400.0, rng.lognormvariate(math.log(12), 0.7)), 2)
            price = round(cost * rng.uniform(1.6, 2.6), 2)
            products.append(
                Product(
                    f"SKU-{i + 1:05d}", f"{rng.choice(_ADJECTIVES).title()} {noun}", category, cost, price
                )
            )
        ranks = list(range(config.skus))
        rng.shuffle(ranks)
        raw = {p.sku: 1.0 / (rank + 1) ** 0.8 for p, rank in zip(products, ranks, strict=True)}
        total = sum(raw.values())
        popularity = {sku: w / total for sku, w in raw.items()}

        suppliers = [
            Supplier(f"SUP-{i + 1:03d}", f"Supplier {i + 1}", rng.randint(2, 5), rng.uniform(0.05, 0.3))
            for i in range(max(1, config.suppliers))
        ]
        supplier_of = {p.sku: suppliers[rng.randrange(len(suppliers))].supplier_id for p in products}

        by_popularity = sorted(popularity, key=popularity.__getitem__, reverse=True)
        core = by_popularity[: max(1, config.skus // 20)]
        ranges: dict[str, tuple[str, ...]] = {}
        starting_stock: dict[str, dict[str, int]] = {}
        low, high = max(1, config.skus * 3 // 20), max(1, config.skus * 3 // 10)
        for loc in locations:
            if loc.kind == "store":
                size = rng.randint(low, high)
                chosen = set(core) | set(rng.sample(by_popularity, min(size, config.skus)))
                ranges[loc.location_id] = tuple(sorted(chosen))
                starting_stock[loc.location_id] = {
                    sku: rng.randint(3, store_max(popularity[sku], config.skus))
                    for sku in ranges[loc.location_id]
                }
        estate = cls(config, locations, products, suppliers, popularity, ranges, {}, supplier_of, home_dc)
        for loc in estate.dcs:
            starting_stock[loc.location_id] = {
                p.sku: max(6, int(estate.dc_daily_demand(p.sku) * rng.uniform(8, 20))) for p in products
            }
        estate.starting_stock = {
            loc.location_id: starting_stock[loc.location_id]
            for loc in locations
            if loc.location_id in starting_stock
        }
        return estate


def store_max(popularity: float, skus: int) -> int:
    """Units a store keeps of a SKU when fully stocked: more of the fast sellers."""
    return max(4, min(24, int(4 + popularity * skus * 3)))
