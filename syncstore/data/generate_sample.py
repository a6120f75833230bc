# Writes the packaged sample catalog CSV (and synthetic catalogs for benchmarks), deterministically.
"""Sample catalog generator.

`python -m syncstore.data.generate_sample` writes `syncstore/data/sample_catalog.csv`: about 250
products with 1,000+ variants across Fashion, Electronics, Beauty and Home & Living, priced in
MYR, in the import format of `syncstore.catalog.importer`. Everything comes from a `random.Random` with
a fixed seed and the tables below (no clock, no network, no set iteration), so two runs write
byte-identical files.

`synthetic_rows(n)` builds a valid catalog of exactly `n` variant rows from the same tables
(unique handles and SKUs), for benchmarks and load tests.
"""

from __future__ import annotations

import argparse
import io
import itertools
import random
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from syncstore.catalog.csv_format import CSV_COLUMNS, PRODUCT_COLUMNS, write_rows
from syncstore.data import sample_catalog_path

SEED = 20_240_917
BENCH_SEED = 7_310_442
IMAGE_HOST = "https://images.syncstore.example"
CURRENCY = "MYR"
MIN_PRICE = Decimal("9.90")
MAX_PRICE = Decimal("1299.00")
CENT = Decimal("0.01")

# Shared option values.
SIZES = ("S", "M", "L", "XL")
BAJU_SIZES = ("S", "M", "L", "XL", "XXL")
EU_SIZES = ("EU 38", "EU 39", "EU 40", "EU 41", "EU 42", "EU 43", "EU 44")
WAIST_SIZES = ("28", "30", "32", "34", "36")
APPAREL_COLOURS = ("Black", "White", "Navy", "Heather Grey", "Olive", "Maroon", "Sand", "Dusty Pink")
HIJAB_COLOURS = ("Dusty Rose", "Mocha", "Sage", "Navy", "Black", "Cream", "Lilac", "Teal", "Mauve")
GADGET_COLOURS = ("Black", "White", "Midnight Blue", "Sage Green")
HOME_COLOURS = ("Ivory", "Charcoal", "Terracotta", "Sage", "Mustard", "Dusty Blue")


@dataclass(frozen=True)
class Option:
    """One variant dimension: which values exist, how many a product offers, price steps."""

    name: str
    values: tuple[str, ...]
    pick: tuple[int, int]
    # Keep a contiguous run (sizes) rather than a random subset (colours, models).
    contiguous: bool = False
    # Added to the base price for these values (the base price is the cheapest variant's).
    surcharge: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Kind:
    """A kind of product: where it is listed, what it is called, what it costs and weighs."""

    category: str
    code: str
    count: int
    brands: tuple[str, ...]
    names: tuple[str, ...]
    extras: tuple[str, ...]
    features: tuple[str, ...]
    price: tuple[int, int]
    grams: tuple[int, int]
    # Parcel length, width, height ranges in cm; None: sold without parcel dimensions.
    box: tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None
    options: tuple[Option, ...] = ()
    tags: tuple[str, ...] = field(default=())


KINDS: tuple[Kind, ...] = (
    # --- Fashion ------------------------------------------------------------------------------
    Kind(
        "Fashion > T-Shirts", "TEE", 16,
        ("Kain Studio", "Urbanloom", "Monsoon Basics", "Nusa Threads"),
        ("Oversized Cotton T-Shirt", "Essential Crew Neck Tee", "Heavyweight Boxy Tee", "Pocket Tee",
         "Batik Print Graphic Tee", "Dri-Fit Running T-Shirt"),
        ("Unisex 240GSM", "100% Combed Cotton", "Regular Fit", "Breathable Quick-Dry", "Relaxed Fit"),
        ("Cut from soft combed cotton that stays smooth after many washes.",
         "A relaxed fit with dropped shoulders, made for Malaysian heat.",
         "Double-stitched hems and a ribbed collar that keeps its shape.",
         "Pre-shrunk fabric, so the size you order is the size you keep.",
         "Model is 175 cm and wears size M.",
         "Machine wash cold, inside out; do not tumble dry."),
        (29, 79), (180, 260), ((28, 32), (22, 26), (2, 4)),
        (Option("Colour", APPAREL_COLOURS, (1, 3)),
         Option("Size", SIZES, (3, 4), contiguous=True, surcharge=(("XL", "2.00"),))),
        ("cotton", "unisex", "casual", "bestseller", "new-arrival", "basics"),
    ),
    Kind(
        "Fashion > Dresses", "DRS", 12,
        ("Batik & Co", "Kain Studio", "Nusa Threads"),
        ("Floral Wrap Midi Dress", "Tiered Maxi Dress", "Linen Shirt Dress", "Pleated Chiffon Dress",
         "Batik Sundress"),
        ("Ruffle Sleeve", "with Pockets", "Muslimah Friendly", "Belted", ""),
        ("Lightweight fabric that flows and never clings.",
         "Hidden side pockets big enough for a phone.",
         "Fully lined, so it is not see-through in daylight.",
         "Hand-drawn batik motifs printed in Kelantan.",
         "Elastic back waist for an easy, flattering fit.",
         "Hand wash or gentle machine wash; iron on low."),
        (59, 189), (300, 450), ((30, 35), (25, 28), (3, 5)),
        (Option("Colour", APPAREL_COLOURS, (1, 3)), Option("Size", SIZES, (3, 4), contiguous=True)),
        ("dress", "raya", "women", "office-wear", "new-arrival"),
    ),
    Kind(
        "Fashion > Jeans", "JNS", 10,
        ("Selangor Denim Works", "Urbanloom"),
        ("Slim Fit Stretch Jeans", "Straight Leg Selvedge Jeans", "Relaxed Tapered Jeans", "Wide Leg Jeans"),
        ("12oz Denim", "Mid Rise", "Classic 5-Pocket", ""),
        ("Stretch denim with 2% elastane that moves with you.",
         "Garment washed for a soft, worn-in hand feel.",
         "YKK zip fly and copper rivets at the stress points.",
         "Inseam 32 inches, easy to hem to your length.",
         "Wash inside out in cold water to keep the colour."),
        (89, 259), (550, 750), ((32, 36), (26, 30), (4, 6)),
        (Option("Colour", ("Indigo", "Light Wash", "Black", "Stone Grey"), (1, 2)),
         Option("Size", WAIST_SIZES, (3, 5), contiguous=True)),
        ("denim", "jeans", "men", "women", "bestseller"),
    ),
    Kind(
        "Fashion > Sneakers", "SNK", 12,
        ("Stride Lab", "Urbanloom"),
        ("Court Classic Sneakers", "Knit Running Shoes", "Chunky Dad Sneakers", "Canvas Low Tops",
         "Slip-On Walking Shoes"),
        ("Lightweight", "Non-Slip Sole", "Breathable Mesh", "Unisex"),
        ("Cushioned EVA midsole for all-day walking.",
         "Breathable upper that keeps feet cool in humid weather.",
         "Grippy rubber outsole, tested on wet mall floors.",
         "Removable insole: room for your own orthotics.",
         "Runs true to size; go half a size up for wide feet.",
         "Wipe clean with a damp cloth; air dry away from sun."),
        (99, 399), (800, 1200), ((33, 36), (21, 24), (12, 14)),
        (Option("Colour", ("Triple White", "Black/Gum", "Grey/Volt", "Navy/White"), (1, 2)),
         Option("Size", EU_SIZES, (4, 6), contiguous=True)),
        ("sneakers", "shoes", "unisex", "sports", "bestseller"),
    ),
    Kind(
        "Fashion > Hijabs", "HJB", 10,
        ("Tudung Teratai", "Nusa Threads"),
        ("Instant Chiffon Hijab", "Bawal Cotton Voile Square", "Jersey Sarung Tudung", "Pleated Shawl"),
        ("Anti-Slip", "Non-Iron", "Breathable", "Double Loop"),
        ("Soft and opaque, with a neat drape that needs no pins.",
         "Non-iron fabric: straight from the line to ready.",
         "Generous size that covers the chest comfortably.",
         "Colours matched to our Raya collection."),
        (19, 69), (80, 150), ((25, 28), (20, 22), (1, 3)),
        (Option("Colour", HIJAB_COLOURS, (3, 6)),),
        ("hijab", "tudung", "muslimah", "raya", "women"),
    ),
    Kind(
        "Fashion > Baju Raya", "BJR", 8,
        ("Warisan", "Batik & Co"),
        ("Baju Melayu Cekak Musang", "Baju Kurung Moden", "Kurta Slim Fit", "Baju Kurung Pahang"),
        ("Raya Collection", "Satin Silk", "Cotton Linen", ""),
        ("Tailored in Kuala Lumpur from premium cotton linen.",
         "Comes with matching trousers or skirt.",
         "Hidden buttons and a comfortable, breathable lining.",
         "Order early for Hari Raya: sizes sell out fast."),
        (129, 389), (450, 800), ((35, 40), (28, 32), (4, 7)),
        (Option("Colour", ("Emerald", "Maroon", "Champagne", "Navy", "Lilac"), (1, 2)),
         Option("Size", BAJU_SIZES, (3, 5), contiguous=True, surcharge=(("XXL", "10.00"),))),
        ("raya", "traditional", "family-set", "festive"),
    ),
    Kind(
        "Fashion > Hoodies", "HOD", 8,
        ("Monsoon Basics", "Urbanloom"),
        ("Fleece Pullover Hoodie", "Zip-Up Hoodie", "Lightweight Travel Hoodie"),
        ("Unisex", "Brushed Fleece", "Cold Office Essential"),
        ("Brushed fleece inside, smooth cotton face outside.",
         "Kangaroo pocket and a lined, adjustable hood.",
         "Perfect for cold offices, flights and Genting trips.",
         "Ribbed cuffs and hem that hold their shape."),
        (69, 149), (450, 650), ((32, 35), (26, 28), (5, 7)),
        (Option("Colour", APPAREL_COLOURS[:5], (1, 2)), Option("Size", SIZES, (3, 4), contiguous=True)),
        ("hoodie", "unisex", "winter", "travel"),
    ),
    Kind(
        "Fashion > Caps", "CAP", 6,
        ("Stride Lab", "Kain Studio"),
        ("Washed Cotton Baseball Cap", "Quick-Dry Running Cap", "Corduroy Dad Hat"),
        ("Adjustable Strap", "UPF 50+", ""),
        ("Adjustable back strap fits most heads.",
         "Pre-curved brim that shades your eyes on sunny days.",
         "Sweat-wicking band keeps you dry on a run."),
        (29, 59), (80, 120), ((24, 26), (18, 20), (10, 12)),
        (Option("Colour", APPAREL_COLOURS[:6], (2, 4)),),
        ("cap", "accessories", "unisex", "sports"),
    ),
    # --- Electronics ---------------------------------------------------------------------------
    Kind(
        "Electronics > Audio > Earbuds", "EBD", 12,
        ("Tempo Audio", "Voltix", "Amparo"),
        ("True Wireless Earbuds", "ANC Wireless Earbuds", "Sport Ear-Hook Earbuds", "Open-Ear Buds"),
        ("Bluetooth 5.3", "40H Playtime", "IPX5 Sweatproof", "Low Latency Gaming Mode"),
        ("Hybrid active noise cancelling takes out bus and aircon hum.",
         "Up to 8 hours per charge and 40 hours with the case.",
         "USB-C fast charge: 10 minutes gives 2 hours of music.",
         "IPX5 sweat and splash resistance for workouts.",
         "Touch controls and a companion app with EQ presets.",
         "1-year local warranty with free replacement."),
        (59, 399), (120, 180), ((10, 12), (8, 10), (4, 5)),
        (Option("Colour", GADGET_COLOURS, (1, 3)),),
        ("earbuds", "bluetooth", "tws", "audio", "bestseller"),
    ),
    Kind(
        "Electronics > Chargers", "CHG", 10,
        ("Voltix", "Kilat", "Nexcell"),
        ("GaN Fast Charger", "Dual Port USB-C Charger", "PD Wall Charger"),
        ("UK 3-Pin Plug", "SIRIM Certified", "Compact Foldable"),
        ("SIRIM-certified UK 3-pin plug for Malaysian sockets.",
         "GaN design that runs cooler and smaller than silicon chargers.",
         "Charges phones, tablets and most laptops over USB-C PD.",
         "Protection against over-voltage, over-current and overheating.",
         "Cable not included."),
        (29, 79), (60, 180), ((8, 10), (6, 8), (4, 5)),
        (Option("Power", ("20W", "33W", "45W", "65W"), (1, 3), contiguous=True,
                surcharge=(("33W", "10.00"), ("45W", "20.00"), ("65W", "40.00"))),),
        ("charger", "usb-c", "fast-charging", "gan"),
    ),
    Kind(
        "Electronics > Cables", "CBL", 12,
        ("Kilat", "Voltix", "Nexcell"),
        ("USB-C to USB-C Cable", "USB-C to Lightning Cable", "Braided USB-A to USB-C Cable",
         "3-in-1 Charging Cable"),
        ("60W Fast Charge", "Nylon Braided", "Tangle-Free", "MFi Certified"),
        ("Nylon braided jacket tested for 20,000 bends.",
         "Supports up to 60W power delivery and 480 Mbps data.",
         "Aluminium connector housings that do not crack.",
         "Velcro tie included for neat storage."),
        (10, 39), (40, 90), ((14, 16), (9, 10), (2, 3)),
        (Option("Length", ("1m", "2m"), (1, 2), contiguous=True, surcharge=(("2m", "5.00"),)),
         Option("Colour", ("Black", "White"), (1, 2))),
        ("cable", "usb-c", "charging", "accessories"),
    ),
    Kind(
        "Electronics > Power Banks", "PWB", 10,
        ("Nexcell", "Voltix", "Kilat"),
        ("Slim Power Bank", "Magnetic Wireless Power Bank", "Fast Charge Power Bank"),
        ("22.5W PD", "with Built-In Cables", "LED Display", "Airline Safe"),
        ("Charges a phone about twice on the 10,000 mAh model.",
         "22.5W fast charging in and out over USB-C.",
         "Digital display shows the exact battery percentage.",
         "Within airline limits for cabin baggage.",
         "SIRIM certified, with 1-year local warranty."),
        (59, 159), (220, 450), ((14, 16), (7, 8), (2, 3)),
        (Option("Capacity", ("10000mAh", "20000mAh"), (1, 2), contiguous=True,
                surcharge=(("20000mAh", "30.00"),)),
         Option("Colour", GADGET_COLOURS[:3], (1, 2))),
        ("power-bank", "portable", "travel", "fast-charging"),
    ),
    Kind(
        "Electronics > Phone Cases", "CSE", 14,
        ("ShieldCase", "Amparo"),
        ("Clear Shockproof Case", "Matte Slim Case", "MagSafe Compatible Case", "Rugged Armor Case"),
        ("Military Grade Drop Protection", "Anti-Yellowing", "Raised Camera Lip", ""),
        ("Air-cushioned corners absorb drops from 2 metres.",
         "Anti-yellowing coating keeps the clear back clear.",
         "Raised lips protect the screen and camera when laid flat.",
         "Precise cut-outs for buttons, speakers and ports.",
         "Compatible with wireless and MagSafe chargers."),
        (19, 69), (30, 60), ((18, 20), (10, 11), (2, 3)),
        (Option("Model", ("iPhone 15", "iPhone 15 Pro", "iPhone 15 Pro Max", "iPhone 16", "iPhone 16 Pro",
                          "Galaxy S24", "Galaxy S24 Ultra", "Redmi Note 13", "OPPO Reno12"), (2, 4)),
         Option("Colour", ("Clear", "Matte Black", "Frosted Blue", "Lavender"), (1, 2))),
        ("phone-case", "iphone", "samsung", "accessories"),
    ),
    Kind(
        "Electronics > Wearables", "WCH", 6,
        ("Orbit Wear", "Amparo"),
        ("AMOLED Smartwatch", "GPS Sports Watch", "Fitness Band"),
        ("Bluetooth Calling", "5ATM Water Resistant", "14-Day Battery"),
        ("1.43-inch AMOLED screen, readable in direct sunlight.",
         "Heart rate, SpO2, sleep and 100+ sport modes.",
         "Built-in GPS for runs and rides without your phone.",
         "Answer calls from your wrist over Bluetooth.",
         "Works with Android and iOS."),
        (199, 1299), (150, 300), ((12, 14), (9, 10), (7, 9)),
        (Option("Colour", ("Black", "Silver", "Rose Gold"), (1, 3)),),
        ("smartwatch", "fitness", "wearable", "gps"),
    ),
    Kind(
        "Electronics > Audio > Speakers", "SPK", 5,
        ("Tempo Audio",),
        ("Portable Bluetooth Speaker", "Waterproof Party Speaker"),
        ("IPX7", "24H Playtime", "Stereo Pairing"),
        ("Big, clear sound with a passive bass radiator.",
         "IPX7 waterproof: it floats in the pool.",
         "Pair two speakers for stereo sound.",
         "Up to 24 hours of playtime on one charge."),
        (89, 459), (500, 1100), ((22, 26), (12, 14), (10, 12)),
        (Option("Colour", GADGET_COLOURS, (1, 2)),),
        ("speaker", "bluetooth", "audio", "outdoor"),
    ),
    # --- Beauty --------------------------------------------------------------------------------
    Kind(
        "Beauty > Makeup > Lipsticks", "LIP", 14,
        ("Petal & Pout", "Bunga Beauty", "Glow Theory"),
        ("Matte Velvet Lipstick", "Hydrating Lip Tint", "Transfer-Proof Liquid Lipstick", "Satin Lip Crayon"),
        ("Halal Certified", "Long Wear 12H", "Vegan", ""),
        ("Lightweight matte finish that does not dry out lips.",
         "Transfer-proof for up to 12 hours, through meals.",
         "Enriched with vitamin E and shea butter.",
         "Halal certified, cruelty free and vegan.",
         "Shades made for Southeast Asian skin tones."),
        (19, 59), (20, 60), ((10, 11), (3, 4), (3, 4)),
        (Option("Shade", ("01 Nude Beige", "02 Rosewood", "03 Brick Red", "04 Chili", "05 Mauve",
                          "06 Cherry", "07 Coral Crush", "08 Berry Wine"), (3, 6)),),
        ("lipstick", "makeup", "halal", "matte", "bestseller"),
    ),
    Kind(
        "Beauty > Skincare > Serums", "SRM", 12,
        ("Lumi Skin", "Embun Lab", "Glow Theory"),
        ("10% Niacinamide Serum", "Vitamin C Brightening Serum", "Hyaluronic Acid Hydrating Serum",
         "Centella Calming Serum", "Retinol Night Serum"),
        ("Fragrance Free", "For Oily Skin", "Dermatologist Tested", ""),
        ("Fades dark spots and evens skin tone in 4 weeks.",
         "Fast-absorbing, non-sticky texture for humid weather.",
         "Fragrance free and suitable for sensitive skin.",
         "Use 2-3 drops after cleansing, morning and night.",
         "Made in Malaysia, KKM notified."),
        (29, 129), (60, 180), ((10, 12), (4, 5), (4, 5)),
        (Option("Size", ("15ml", "30ml", "50ml"), (1, 3), contiguous=True,
                surcharge=(("30ml", "20.00"), ("50ml", "45.00"))),),
        ("serum", "skincare", "brightening", "hydrating"),
    ),
    Kind(
        "Beauty > Skincare > Sunscreen", "SUN", 10,
        ("Lumi Skin", "Bunga Beauty", "Embun Lab"),
        ("Daily UV Sunscreen SPF50+ PA++++", "Tinted Sun Fluid SPF50", "Mineral Sunscreen Stick SPF50"),
        ("No White Cast", "Water Resistant", "Non-Greasy", ""),
        ("Broad spectrum SPF50+ PA++++ protection.",
         "Watery texture with no white cast, even on deeper skin tones.",
         "Works as a primer under makeup.",
         "Reapply every 2 hours outdoors."),
        (19, 69), (60, 150), ((12, 14), (4, 5), (3, 4)),
        (Option("Size", ("50ml", "100ml"), (1, 2), contiguous=True, surcharge=(("100ml", "15.00"),)),),
        ("sunscreen", "spf50", "skincare", "daily"),
    ),
    Kind(
        "Beauty > Skincare > Cleansers", "CLN", 7,
        ("Embun Lab", "Lumi Skin"),
        ("Low pH Gel Cleanser", "Amino Acid Foam Cleanser", "Cleansing Balm"),
        ("150ml", "Gentle", "Makeup Remover"),
        ("Low pH formula that cleans without stripping.",
         "Removes sunscreen and light makeup in one step.",
         "Suitable for daily use on all skin types."),
        (16, 49), (150, 250), ((16, 18), (5, 6), (4, 5)),
        (),
        ("cleanser", "skincare", "gentle"),
    ),
    Kind(
        "Beauty > Skincare > Masks", "MSK", 7,
        ("Glow Theory", "Bunga Beauty"),
        ("Hydrating Sheet Mask", "Clay Pore Mask", "Overnight Sleeping Mask"),
        ("Korean Formula", "Soothing", ""),
        ("One mask, 15 minutes, visibly plumper skin.",
         "Bamboo fibre sheet that fits Asian face shapes.",
         "Keep in the fridge for an extra cooling effect."),
        (10, 16), (30, 300), ((20, 22), (14, 16), (1, 5)),
        (Option("Pack", ("Single", "Box of 10"), (1, 2), contiguous=True,
                surcharge=(("Box of 10", "60.00"),)),),
        ("mask", "skincare", "korean"),
    ),
    # --- Home & Living -------------------------------------------------------------------------
    Kind(
        "Home & Living > Kitchen > Mugs", "MUG", 8,
        ("Kayu Home", "Rumah Living"),
        ("Stoneware Coffee Mug", "Double Wall Glass Mug", "Enamel Camping Mug"),
        ("350ml", "Microwave Safe", "Handmade", ""),
        ("Holds 350 ml: a full kopi with room for milk.",
         "Dishwasher and microwave safe.",
         "Each glaze is slightly different: no two mugs alike.",
         "Packed in a foam-lined box so it arrives in one piece."),
        (19, 49), (300, 450), ((14, 16), (11, 12), (11, 13)),
        (Option("Colour", HOME_COLOURS, (1, 3)),),
        ("mug", "kitchen", "gift", "coffee"),
    ),
    Kind(
        "Home & Living > Bedding > Bedsheets", "BED", 10,
        ("Tidur Linen", "Cozy Nest"),
        ("Bamboo Cooling Fitted Sheet Set", "1000TC Cotton Bedsheet Set", "Washed Linen Duvet Cover Set"),
        ("with 2 Pillowcases", "Deep Pocket 14 inch", "Hotel Quality", ""),
        ("Bamboo-cotton blend that stays cool on warm nights.",
         "Fits mattresses up to 14 inches deep.",
         "Set includes a fitted sheet and two pillowcases.",
         "Gets softer with every wash; no ironing needed."),
        (79, 299), (900, 2200), ((35, 40), (28, 32), (8, 12)),
        (Option("Size", ("Single", "Queen", "King"), (2, 3), contiguous=True,
                surcharge=(("Queen", "20.00"), ("King", "40.00"))),
         Option("Colour", HOME_COLOURS, (1, 2))),
        ("bedsheet", "bedding", "bamboo", "bedroom"),
    ),
    Kind(
        "Home & Living > Bath > Towels", "TWL", 6,
        ("Tidur Linen", "Rumah Living"),
        ("Quick-Dry Microfibre Bath Towel", "Egyptian Cotton Bath Towel", "Waffle Weave Towel"),
        ("70x140cm", "Super Absorbent", ""),
        ("Absorbs three times its weight and dries fast.",
         "Soft loops that do not shed after the first wash.",
         "Hanging loop on every towel."),
        (19, 59), (350, 650), ((30, 32), (24, 26), (5, 8)),
        (Option("Colour", HOME_COLOURS, (2, 4)),),
        ("towel", "bathroom", "cotton"),
    ),
    Kind(
        "Home & Living > Storage", "STO", 6,
        ("Kemas", "Rumah Living"),
        ("Stackable Storage Box with Lid", "Foldable Fabric Storage Cube", "Under-Bed Storage Bag"),
        ("Clear", "Dustproof", ""),
        ("Stacks securely, with a clip-on lid.",
         "Folds flat when you do not need it.",
         "Label window on the front for easy sorting."),
        (16, 49), (400, 1500), ((30, 45), (22, 35), (8, 25)),
        (Option("Size", ("S", "M", "L"), (2, 3), contiguous=True,
                surcharge=(("M", "6.00"), ("L", "12.00"))),),
        ("storage", "organiser", "declutter"),
    ),
    Kind(
        "Home & Living > Decor > Candles", "CDL", 8,
        ("Lilin Co",),
        ("Soy Wax Scented Candle", "Wooden Wick Candle", "Travel Tin Candle"),
        ("200g", "40H Burn Time", "Hand Poured", ""),
        ("Hand poured in Penang from natural soy wax.",
         "Burns clean for about 40 hours.",
         "Trim the wick to 5 mm before each burn."),
        (29, 89), (250, 400), ((10, 11), (10, 11), (11, 12)),
        (Option("Scent", ("Lavender Fields", "Pandan Coconut", "Sea Salt & Sage", "White Tea", "Vanilla Oud"),
                (2, 4)),),
        ("candle", "home-fragrance", "gift", "decor"),
    ),
    Kind(
        "Home & Living > Decor > Cushion Covers", "CUS", 6,
        ("Cozy Nest", "Batik & Co"),
        ("Linen Cushion Cover", "Batik Print Cushion Cover", "Velvet Cushion Cover"),
        ("45x45cm", "Hidden Zip", ""),
        ("Fits standard 45 x 45 cm inserts (insert not included).",
         "Hidden zip along the bottom edge.",
         "Machine washable on a gentle cycle."),
        (19, 45), (120, 200), ((25, 27), (20, 22), (2, 3)),
        (Option("Colour", HOME_COLOURS, (2, 4)),),
        ("cushion", "decor", "living-room"),
    ),
    Kind(
        "Home & Living > Appliances", "APL", 6,
        ("Dapur Pro",),
        ("Digital Air Fryer 5.5L", "Glass Electric Kettle 1.7L", "Personal Blender", "Rice Cooker 1.8L"),
        ("with Recipe Book", "2-Year Warranty", "SIRIM Approved", ""),
        ("SIRIM approved, with a UK 3-pin plug.",
         "Non-stick parts that go in the dishwasher.",
         "Auto shut-off and overheat protection.",
         "2-year warranty with service centres in KL, Penang and JB."),
        (199, 899), (1500, 6500), ((30, 42), (28, 38), (25, 38)),
        (Option("Colour", ("Black", "White"), (1, 2)),),
        ("kitchen", "appliance", "home", "bestseller"),
    ),
    Kind(
        "Home & Living > Appliances", "VAC", 3,
        ("Dapur Pro", "Kemas"),
        ("Robot Vacuum and Mop", "Cordless Stick Vacuum"),
        ("LiDAR Navigation", "App Control", "Self-Emptying Dock"),
        ("LiDAR mapping cleans room by room without bumping around.",
         "Sweeps and mops in one pass; set no-go zones in the app.",
         "Up to 180 minutes per charge."),
        (699, 1299), (3500, 9000), ((45, 55), (40, 50), (15, 45)),
        (),
        ("vacuum", "smart-home", "cleaning"),
    ),
)  # fmt: skip


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _code(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text).upper()


def _brand_code(brand: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z]+", brand) if w]
    return "".join(w[0] for w in words).upper() if len(words) > 1 else words[0][:3].upper()


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    cents = rng.choice(("0.90", "0.90", "0.90", "0.00", "0.50"))
    value = Decimal(rng.randint(low, high)) + Decimal(cents)
    return min(max(value, MIN_PRICE), MAX_PRICE)


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ean13(number: int) -> str:
    digits = f"955{number % 1_000_000_000:09d}"  # 955: GS1 Malaysia
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


def _pick(rng: random.Random, option: Option) -> list[str]:
    count = min(rng.randint(*option.pick), len(option.values))
    if option.contiguous:
        start = rng.randint(0, len(option.values) - count)
        return list(option.values[start : start + count])
    chosen = set(rng.sample(range(len(option.values)), count))
    return [value for index, value in enumerate(option.values) if index in chosen]


@dataclass
class _Counters:
    product: int = 0
    variant: int = 0
    handles: dict[str, int] = field(default_factory=dict)


def _product_rows(rng: random.Random, kind: Kind, counters: _Counters, handle_suffix: str = "") -> list[list[str]]:
    """The CSV rows of one product of `kind` (product columns filled on its first row only)."""
    counters.product += 1
    brand = rng.choice(kind.brands)
    name = rng.choice(kind.names)
    extra = rng.choice(kind.extras)
    title = f"{brand} {name}" + (f" {extra}" if extra else "")
    handle = _slug(f"{brand} {name}")
    seen = counters.handles.get(handle, 0)
    counters.handles[handle] = seen + 1
    if seen:
        handle = f"{handle}-{seen + 1}"
    handle += handle_suffix

    features = rng.sample(kind.features, min(len(kind.features), rng.randint(2, 4)))
    description = " ".join([f"{name} by {brand}.", *features])
    base_price = _price(rng, *kind.price)
    grams = rng.randint(*kind.grams)
    weight = _decimal_text(Decimal(grams) / 1000)
    has_box = kind.box is not None and rng.random() > 0.1
    box = [str(rng.randint(*bounds)) for bounds in kind.box] if has_box and kind.box else ["", "", ""]
    images = [f"{IMAGE_HOST}/{handle}/{n}.jpg" for n in range(1, rng.randint(2, 5) + 1)]
    tags = rng.sample(kind.tags, min(len(kind.tags), rng.randint(2, 4)))
    status = "inactive" if rng.random() < 0.06 else "active"
    product_cells = [
        title, description, kind.category, brand, f"{base_price:.2f}", CURRENCY, weight, *box,
        "|".join(images), "|".join(tags), status,
    ]  # fmt: skip
    assert len(product_cells) == len(PRODUCT_COLUMNS)

    picks = [(option, _pick(rng, option)) for option in kind.options]
    combinations = list(itertools.product(*(values for _, values in picks))) or [()]
    brand_code = _brand_code(brand)
    rows: list[list[str]] = []
    for index, values in enumerate(combinations):
        counters.variant += 1
        surcharge = sum(
            (Decimal(amount) for (option, _), value in zip(picks, values, strict=True)
             for named, amount in option.surcharge if named == value),
            Decimal(0),
        )  # fmt: skip
        price = min(base_price + surcharge, MAX_PRICE).quantize(CENT)
        sku = "-".join([f"{brand_code}-{kind.code}{counters.product:05d}", *(_code(v) for v in values)])
        options: list[str] = []
        for (option, _), value in zip(picks, values, strict=True):
            options.extend((option.name, value))
        options.extend([""] * (4 - len(options)))
        colour = next((v for (o, _), v in zip(picks, values, strict=True) if o.name in ("Colour", "Shade")), None)
        stock = 0 if rng.random() < 0.08 else rng.randint(1, 250)
        barcode = _ean13(counters.variant) if rng.random() < 0.7 else ""
        variant_image = f"{IMAGE_HOST}/{handle}/{_slug(colour)}.jpg" if colour else ""
        rows.append(
            [
                handle,
                *(product_cells if index == 0 else [""] * len(product_cells)),
                sku,
                " / ".join(values),  # blank for a product without options: the importer says "Default"
                *options,
                "" if price == base_price else f"{price:.2f}",
                str(stock),
                barcode,
                variant_image,
                "",  # bundle: the sample has none
            ]
        )
        assert len(rows[-1]) == len(CSV_COLUMNS)
    return rows


def sample_rows(seed: int = SEED) -> list[list[str]]:
    """The rows of the shipped sample catalog (header excluded)."""
    rng = random.Random(seed)
    counters = _Counters()
    rows: list[list[str]] = []
    for kind in KINDS:
        for _ in range(kind.count):
            rows.extend(_product_rows(rng, kind, counters))
    return rows


def synthetic_rows(rows: int, seed: int = BENCH_SEED) -> list[list[str]]:
    """A valid catalog of exactly `rows` variant rows (unique handles and SKUs), for benchmarks."""
    rng = random.Random(seed)
    counters = _Counters()
    weights = [kind.count for kind in KINDS]
    result: list[list[str]] = []
    while len(result) < rows:
        kind = rng.choices(KINDS, weights)[0]
        product = _product_rows(rng, kind, counters, handle_suffix=f"-{counters.product + 1:06d}")
        result.extend(product[: rows - len(result)])
    return result


def render(rows: Sequence[Sequence[str]]) -> str:
    """The CSV text (header first, "\\n" line ends) of `rows`."""
    buffer = io.StringIO()
    write_rows(buffer, rows)
    return buffer.getvalue()


def write(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """Write `rows` as a UTF-8 catalog CSV at `path`."""
    path.write_bytes(render(rows).encode("utf-8"))


def _summary(rows: Sequence[Sequence[str]]) -> Iterator[str]:
    handles = {row[0] for row in rows}
    categories = sorted({row[3].split(" > ")[0] for row in rows if row[3]})
    yield f"{len(handles)} products, {len(rows)} variants; {', '.join(categories)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the sample catalog CSV (deterministic).")
    parser.add_argument("--output", type=Path, default=sample_catalog_path(), help="where to write it")
    args = parser.parse_args(argv)
    rows = sample_rows()
    write(args.output, rows)
    for line in _summary(rows):
        print(f"wrote {args.output}: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
