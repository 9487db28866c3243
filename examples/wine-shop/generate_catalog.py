#!/usr/bin/env python3
"""Generate the Vineyard Cellars example catalog (`catalog.csv`, about 300 wines and spirits).

Standard library only and fully seeded: running it twice writes byte-identical files, so the committed
`catalog.csv` can always be rebuilt and checked.

    python generate_catalog.py                 # writes catalog.csv next to this script
    python generate_catalog.py --seed 7 -o /tmp/other.csv

Producers are a mix of invented and well-known names; cuvées, prices, stock and notes are made up for
the demo and are not real offers.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from pathlib import Path

COLUMNS = [
    "sku", "name", "producer", "type", "category", "region", "country", "grape", "vintage",
    "abv", "volume_ml", "price", "in_stock", "tasting_notes", "food_pairing",
]

CATEGORIES = {
    "red": "Red Wine", "white": "White Wine", "rosé": "Rosé Wine", "sparkling": "Sparkling",
    "fortified": "Fortified Wine", "dessert": "Dessert Wine", "whisky": "Whisky", "gin": "Gin",
    "rum": "Rum", "tequila": "Tequila & Mezcal", "mezcal": "Tequila & Mezcal", "brandy": "Brandy",
    "vodka": "Vodka", "liqueur": "Liqueurs & Aperitifs",
}
WINE_TYPES = {"red", "white", "rosé", "sparkling", "fortified", "dessert"}
LATEST_VINTAGE = 2023

# --------------------------------------------------------------------------------------------------
# Tasting vocabulary, one profile per style family.
# --------------------------------------------------------------------------------------------------
PROFILES: dict[str, dict[str, list[str]]] = {
    "red_light": {
        "aroma": ["red cherry", "wild strawberry", "raspberry", "cranberry", "violet", "rose petal",
                  "forest floor", "sous-bois", "pomegranate", "dried herbs", "a hint of clove"],
        "palate": ["silky", "bright", "supple", "fine-grained", "juicy", "lifted", "delicate"],
        "texture": ["fresh acidity", "gentle tannins", "a light, elegant frame", "lovely transparency"],
        "finish": ["The finish is long and perfumed.", "It finishes fresh and savoury.",
                   "A touch of spice lingers on the finish.", "Best with a slight chill."],
        "food": ["roast chicken", "duck breast", "mushroom risotto", "grilled salmon", "charcuterie",
                 "coq au vin", "beef bourguignon", "roast pork", "Gruyère", "lentil stew"],
    },
    "red_medium": {
        "aroma": ["black cherry", "plum", "red currant", "leather", "tobacco leaf", "dried oregano",
                  "sour cherry", "cedar", "licorice", "balsamic", "tomato leaf", "orange peel"],
        "palate": ["medium-bodied", "savoury", "firm", "generous", "well-structured", "vibrant"],
        "texture": ["dusty tannins", "mouth-watering acidity", "a chalky grip", "ripe, rounded tannins"],
        "finish": ["The finish is dry and savoury.", "It closes on a note of bitter cherry.",
                   "A long, earthy finish.", "Drinks well now and over the next five years."],
        "food": ["pizza margherita", "pasta with ragù", "grilled lamb chops", "aged Pecorino",
                 "bistecca alla fiorentina", "roast pork loin", "lasagne", "mushroom pappardelle",
                 "chorizo", "grilled sausages", "Manchego"],
    },
    "red_full": {
        "aroma": ["blackcurrant", "blackberry", "cassis", "dark chocolate", "espresso", "graphite",
                  "cedar", "vanilla", "black pepper", "smoked meat", "mocha", "blueberry", "sweet spice"],
        "palate": ["full-bodied", "concentrated", "powerful", "rich", "opulent", "dense"],
        "texture": ["firm, polished tannins", "velvety tannins", "a plush texture", "serious structure"],
        "finish": ["The finish is long and layered.", "Decant for an hour before serving.",
                   "Will reward another five to ten years in the cellar.", "A lingering, spicy finish."],
        "food": ["ribeye steak", "braised short ribs", "rack of lamb", "venison", "aged Cheddar",
                 "barbecue brisket", "beef Wellington", "grilled portobello", "osso buco",
                 "Comté", "slow-roasted lamb shoulder"],
    },
    "white_crisp": {
        "aroma": ["green apple", "lime zest", "grapefruit", "wet stone", "crushed chalk", "white flowers",
                  "lemon curd", "cut grass", "gooseberry", "sea spray", "green pear", "fresh herbs"],
        "palate": ["crisp", "zesty", "linear", "racy", "mineral", "refreshing", "taut"],
        "texture": ["bright acidity", "a saline edge", "a clean, precise line", "lovely tension"],
        "finish": ["The finish is clean and mouth-watering.", "It ends on a salty, mineral note.",
                   "A citrus-driven finish.", "Perfect as an aperitif."],
        "food": ["oysters", "goat cheese salad", "grilled shrimp", "fish tacos", "sushi", "ceviche",
                 "steamed mussels", "asparagus", "Thai green curry", "fried calamari", "sea bass"],
    },
    "white_rich": {
        "aroma": ["ripe pear", "yellow apple", "toasted hazelnut", "brioche", "butter", "lemon tart",
                  "peach", "vanilla", "honeysuckle", "baked apple", "toasted oak", "citrus blossom"],
        "palate": ["rich", "creamy", "round", "full-bodied", "layered", "textured"],
        "texture": ["a creamy mid-palate", "fresh acidity for balance", "a lees-driven texture",
                    "integrated oak"],
        "finish": ["The finish is long and nutty.", "It finishes with a flinty, toasty note.",
                   "A generous finish with gentle oak spice.", "Lovely now, better in two or three years."],
        "food": ["lobster", "roast chicken", "crab cakes", "scallops in butter", "creamy pasta",
                 "pork tenderloin", "Brie", "halibut", "mushroom vol-au-vent", "turkey"],
    },
    "white_aromatic": {
        "aroma": ["lychee", "rose water", "apricot", "white peach", "ginger", "orange blossom",
                  "honey", "lime", "jasmine", "petrol", "tangerine", "candied citrus"],
        "palate": ["aromatic", "off-dry", "fragrant", "juicy", "exotic", "delicate"],
        "texture": ["a touch of sweetness balanced by fresh acidity", "a silky texture",
                    "crystalline acidity", "low alcohol and great poise"],
        "finish": ["The finish is floral and persistent.", "It finishes with a hint of spice.",
                   "A long, honeyed finish.", "Serve well chilled."],
        "food": ["Thai green curry", "pad thai", "Munster", "spicy Sichuan dishes", "pork belly",
                 "sushi", "Indian butter chicken", "smoked trout", "fruit tart", "Vietnamese spring rolls"],
    },
    "rose": {
        "aroma": ["strawberry", "watermelon", "pink grapefruit", "red currant", "peach skin",
                  "rose petal", "herbes de Provence", "blood orange", "white cherry"],
        "palate": ["dry", "pale", "crisp", "delicate", "refreshing", "bright"],
        "texture": ["a mineral edge", "zesty acidity", "a light, silky texture", "a savoury touch"],
        "finish": ["The finish is dry and refreshing.", "A summer classic for the terrace.",
                   "It finishes on a hint of salinity.", "Serve well chilled."],
        "food": ["salade niçoise", "grilled prawns", "bouillabaisse", "tapas", "grilled vegetables",
                 "goat cheese", "charcuterie", "salmon", "Mediterranean mezze", "pizza"],
    },
    "sparkling": {
        "aroma": ["green apple", "brioche", "toasted almond", "lemon zest", "white peach",
                  "pear", "hazelnut", "red berries", "chalk", "honeysuckle", "pastry"],
        "palate": ["fine", "elegant", "lively", "creamy", "precise", "crisp"],
        "texture": ["a fine, persistent mousse", "lively bubbles", "a creamy bead", "bright acidity"],
        "finish": ["The finish is long and toasty.", "A celebratory, refreshing finish.",
                   "It finishes dry and clean.", "Ideal as an aperitif."],
        "food": ["oysters", "smoked salmon", "fried chicken", "caviar", "tempura", "gougères",
                 "potato chips", "sushi", "parmesan", "strawberries"],
    },
    "sweet": {
        "aroma": ["apricot", "honey", "candied orange", "saffron", "marmalade", "quince", "beeswax",
                  "dried pineapple", "vanilla", "botrytis spice"],
        "palate": ["luscious", "sweet", "unctuous", "rich", "concentrated"],
        "texture": ["vibrant acidity that keeps it fresh", "a silky, viscous texture", "great balance"],
        "finish": ["The finish seems to go on for minutes.", "A long, honeyed finish.",
                   "A small glass is enough."],
        "food": ["foie gras", "Roquefort", "crème brûlée", "fruit tart", "blue cheese",
                 "apricot tart", "almond cake", "panna cotta"],
    },
    "port": {
        "aroma": ["blackberry jam", "plum", "fig", "dark chocolate", "walnut", "caramel", "raisin",
                  "dried cherry", "toffee", "orange peel", "cinnamon"],
        "palate": ["rich", "sweet", "warming", "velvety", "mellow"],
        "texture": ["firm tannins", "a silky texture", "fine balance of sweetness and spirit"],
        "finish": ["The finish is long and warming.", "Serve after dinner.",
                   "Keeps well for weeks once opened."],
        "food": ["Stilton", "dark chocolate", "walnuts", "pecan pie", "blue cheese", "chocolate cake"],
    },
    "sherry": {
        "aroma": ["almond", "green olive", "sea salt", "walnut", "dried fig", "toffee", "yeast",
                  "chamomile", "orange peel", "raisin", "molasses"],
        "palate": ["bone-dry", "tangy", "nutty", "savoury", "complex"],
        "texture": ["a saline, tangy texture", "great depth", "a long, nutty core"],
        "finish": ["The finish is long and savoury.", "Serve chilled in a white-wine glass.",
                   "A unique, haunting finish."],
        "food": ["jamón ibérico", "salted almonds", "olives", "Manchego", "fried fish", "mushroom soup",
                 "vanilla ice cream", "blue cheese"],
    },
    "scotch_peat": {
        "aroma": ["peat smoke", "iodine", "seaweed", "smoked bacon", "lemon", "campfire ash",
                  "brine", "vanilla", "tar", "dark chocolate"],
        "palate": ["smoky", "medicinal", "briny", "bold", "oily"],
        "texture": ["a rich, oily texture", "sweet malt underneath the smoke", "a peppery bite"],
        "finish": ["The finish is long, smoky and dry.", "A drop of water opens up sweeter notes.",
                   "The smoke lingers for minutes."],
        "food": ["smoked salmon", "oysters", "blue cheese", "dark chocolate", "barbecue"],
    },
    "scotch": {
        "aroma": ["honey", "orchard fruit", "vanilla", "heather", "toffee", "dried fruit", "sherry",
                  "orange marmalade", "malted biscuit", "oak spice", "cinnamon", "almond"],
        "palate": ["smooth", "rich", "fruity", "well-rounded", "elegant", "malty"],
        "texture": ["a creamy mouthfeel", "gentle oak spice", "sweet malt"],
        "finish": ["The finish is medium-long and warming.", "A dry, spicy finish.",
                   "Try it neat or with a splash of water."],
        "food": ["aged Cheddar", "dark chocolate", "smoked salmon", "shortbread", "roast venison"],
    },
    "american": {
        "aroma": ["caramel", "vanilla", "toasted oak", "baking spice", "cherry", "brown sugar",
                  "rye spice", "cornbread", "orange peel", "maple", "black pepper"],
        "palate": ["bold", "sweet", "spicy", "rich", "robust"],
        "texture": ["a warming, oily texture", "a spicy kick", "sweet corn richness"],
        "finish": ["The finish is long with oak and spice.", "Excellent in an Old Fashioned.",
                   "A warming, peppery finish."],
        "food": ["barbecue ribs", "pecan pie", "smoked brisket", "dark chocolate", "glazed ham"],
    },
    "irish_japanese": {
        "aroma": ["green apple", "honey", "vanilla", "pear", "sandalwood", "white pepper", "citrus",
                  "cereal", "plum", "toasted nuts"],
        "palate": ["smooth", "light", "delicate", "refined", "mellow"],
        "texture": ["a soft, round texture", "gentle spice", "great balance"],
        "finish": ["The finish is clean and gently spicy.", "Superb in a highball.",
                   "A soft, honeyed finish."],
        "food": ["sushi", "grilled fish", "yakitori", "soda bread and butter", "apple tart"],
    },
    "gin": {
        "aroma": ["juniper", "coriander seed", "lemon peel", "angelica", "orris root", "pink pepper",
                  "grapefruit", "cucumber", "lavender", "cardamom", "pine needles", "orange zest"],
        "palate": ["crisp", "dry", "aromatic", "bright", "classic", "herbal"],
        "texture": ["a clean juniper backbone", "a silky texture", "a peppery warmth"],
        "finish": ["The finish is dry and citrusy.", "Made for a Martini or a gin and tonic.",
                   "A long, botanical finish."],
        "food": ["oysters", "smoked salmon canapés", "ceviche", "cucumber sandwiches", "olives"],
    },
    "rum": {
        "aroma": ["molasses", "banana", "brown sugar", "tropical fruit", "vanilla", "nutmeg",
                  "coconut", "toffee", "grassy sugar cane", "orange peel", "pineapple"],
        "palate": ["rich", "funky", "smooth", "sweet", "spicy", "vibrant"],
        "texture": ["a round, oily texture", "warming spice", "a hint of oak"],
        "finish": ["The finish is long and spicy.", "Great in a Daiquiri or neat over ice.",
                   "A warm, toffee finish."],
        "food": ["jerk chicken", "grilled pineapple", "banana bread", "dark chocolate", "Cuban sandwich"],
    },
    "tequila": {
        "aroma": ["cooked agave", "black pepper", "citrus", "vanilla", "caramel", "green herbs",
                  "cinnamon", "white pepper", "cooked pear", "mineral"],
        "palate": ["bright", "earthy", "peppery", "smooth", "sweet"],
        "texture": ["a clean, vegetal core", "gentle oak", "a silky texture"],
        "finish": ["The finish is peppery and clean.", "Sip it neat or mix a Margarita.",
                   "A warm, lingering finish."],
        "food": ["tacos al pastor", "ceviche", "guacamole", "grilled fish", "mole"],
    },
    "mezcal": {
        "aroma": ["wood smoke", "roasted agave", "green mango", "damp soil", "leather", "citrus",
                  "black pepper", "wet clay"],
        "palate": ["smoky", "earthy", "complex", "savoury"],
        "texture": ["a mineral texture", "sweet roasted agave under the smoke"],
        "finish": ["The finish is long and smoky.", "Sip it neat with orange slices."],
        "food": ["mole negro", "grilled meats", "tlayudas", "orange slices with chili salt"],
    },
    "brandy": {
        "aroma": ["dried apricot", "vanilla", "candied orange", "raisin", "toasted oak", "prune",
                  "leather", "baked apple", "honey", "cinnamon", "walnut", "fig"],
        "palate": ["smooth", "rich", "round", "elegant", "mellow"],
        "texture": ["a supple, warming texture", "well-integrated oak", "great depth"],
        "finish": ["The finish is long and warming.", "Serve neat after dinner.",
                   "A lingering finish of spice and dried fruit."],
        "food": ["dark chocolate", "tarte tatin", "crème brûlée", "walnuts", "cigar-friendly cheeses"],
    },
    "vodka": {
        "aroma": ["clean grain", "white pepper", "citrus", "fresh bread", "vanilla", "cream", "mineral"],
        "palate": ["clean", "smooth", "crisp", "soft", "pure"],
        "texture": ["a silky, slightly oily texture", "a gentle peppery bite"],
        "finish": ["The finish is clean and short.", "Serve ice cold or in a Martini.",
                   "A soft, neutral finish."],
        "food": ["caviar", "smoked fish", "pickles", "blinis", "oysters"],
    },
    "liqueur": {
        "aroma": ["bitter orange", "gentian", "rhubarb", "vanilla", "wormwood", "cherry", "herbs",
                  "caramel", "cinnamon", "grapefruit peel"],
        "palate": ["bittersweet", "herbal", "aromatic", "sweet", "complex"],
        "texture": ["a silky texture", "a bitter edge", "a balanced sweetness"],
        "finish": ["The finish is bittersweet and long.", "Essential for a Negroni.",
                   "Serve over ice with soda."],
        "food": ["olives", "salted nuts", "antipasti", "orange cake", "chocolate"],
    },
}

# --------------------------------------------------------------------------------------------------
# Styles. Each line: type, profile, region, country, appellation (used in the name), grape or base,
# price range (USD, per bottle), ABV range, vintages (lo, hi) or None, producers, labels, count, name format,
# and optionally volume_ml (default 750).
# A label may be (label, price factor) or (label, price factor, overrides) where overrides can set
# abv, volume_ml, vintage ("nv" for none) and grape.
# --------------------------------------------------------------------------------------------------
S = dict  # shorthand


STYLES: list[dict] = [
    # ---------------------------------------------------------------------------- red wine
    S(type="red", profile="red_full", region="Bordeaux", country="France",
      appellation="Saint-Émilion Grand Cru", grape="Merlot, Cabernet Franc", price=(38, 95), abv=(13.5, 14.5),
      vintages=(2015, 2020), producers=["Château Haut-Mayne", "Château La Croix Saint-Georges",
      "Château Belle-Garde", "Château Tour du Pin", "Château Roc de Fombrauge"], labels=[""], n=3),
    S(type="red", profile="red_full", region="Bordeaux", country="France", appellation="Pauillac",
      grape="Cabernet Sauvignon, Merlot", price=(65, 220), abv=(13.0, 14.0), vintages=(2014, 2019),
      producers=["Château Haut-Batailley", "Château Grand-Bages", "Château Lynch-Moussas"],
      labels=[""], n=2),
    S(type="red", profile="red_full", region="Bordeaux", country="France", appellation="Margaux",
      grape="Cabernet Sauvignon, Merlot, Petit Verdot", price=(55, 180), abv=(13.0, 14.0),
      vintages=(2015, 2020), producers=["Château Rauzan-Desgranges", "Château Siran-Laborde",
      "Château Marquis de Terme"], labels=[""], n=1),
    S(type="red", profile="red_medium", region="Bordeaux", country="France",
      appellation="Bordeaux Supérieur", grape="Merlot, Cabernet Sauvignon", price=(14, 26), abv=(13.0, 14.0),
      vintages=(2018, 2021), producers=["Château Recougne", "Château Pey La Tour", "Château Lestage-Simon",
      "Château Moulin de Clos"], labels=[""], n=3),
    S(type="red", profile="red_light", region="Burgundy", country="France", appellation="Bourgogne",
      grape="Pinot Noir", price=(24, 42), abv=(12.5, 13.5), vintages=(2019, 2022),
      producers=["Domaine Faiveley", "Maison Roche de Bellene", "Domaine Michel Gros", "Domaine Chanson"],
      labels=["Pinot Noir", "Pinot Noir Vieilles Vignes", "Cuvée Réserve Pinot Noir"], n=2),
    S(type="red", profile="red_light", region="Burgundy", country="France", appellation="Gevrey-Chambertin",
      grape="Pinot Noir", price=(65, 145), abv=(13.0, 13.5), vintages=(2017, 2021),
      producers=["Domaine Faiveley", "Domaine Rossignol-Trapet", "Domaine Humbert Frères"],
      labels=["", "Vieilles Vignes", "Premier Cru Les Cazetiers"], n=2),
    S(type="red", profile="red_light", region="Burgundy", country="France", appellation="Volnay",
      grape="Pinot Noir", price=(55, 110), abv=(13.0, 13.5), vintages=(2017, 2021),
      producers=["Domaine Marquis d'Angerville", "Domaine Bitouzet-Prieur"],
      labels=["", "Premier Cru Clos des Chênes"], n=1),
    S(type="red", profile="red_light", region="Beaujolais", country="France", appellation="Morgon",
      grape="Gamay", price=(18, 32), abv=(12.5, 13.5), vintages=(2020, 2022),
      producers=["Domaine Jean Foillard", "Marcel Lapierre", "Domaine Piron", "Château de Pizay"],
      labels=["Côte du Py", "Cuvée Corcelette", "Vieilles Vignes"], n=2),
    S(type="red", profile="red_light", region="Beaujolais", country="France", appellation="Fleurie",
      grape="Gamay", price=(19, 30), abv=(12.5, 13.0), vintages=(2021, 2022),
      producers=["Domaine Chignard", "Clos de la Roilette", "Domaine du Vissoux"],
      labels=["Poncié", "Les Moriers", ""], n=1),
    S(type="red", profile="red_medium", region="Rhône Valley", country="France", appellation="Côtes du Rhône",
      grape="Grenache, Syrah, Mourvèdre", price=(12, 21), abv=(13.5, 14.5), vintages=(2020, 2022),
      producers=["Domaine de la Janasse", "Famille Perrin", "E. Guigal", "Domaine Saint-Préfert",
      "Château de Saint Cosme"], labels=["Réserve", "Les Garrigues", "Vieilles Vignes", "Villages"], n=3),
    S(type="red", profile="red_full", region="Rhône Valley", country="France",
      appellation="Châteauneuf-du-Pape", grape="Grenache, Syrah, Mourvèdre", price=(45, 115),
      abv=(14.5, 15.5), vintages=(2016, 2020), producers=["Domaine du Vieux Télégraphe", "Clos des Papes",
      "Domaine de la Charbonnière", "Château La Nerthe"], labels=["", "Vieilles Vignes", "Cuvée Tradition"], n=2),
    S(type="red", profile="red_full", region="Rhône Valley", country="France", appellation="Crozes-Hermitage",
      grape="Syrah", price=(24, 40), abv=(13.0, 13.5), vintages=(2019, 2022),
      producers=["Domaine Alain Graillot", "Cave de Tain", "Domaine Combier"], labels=["", "Les Hauts Granits"], n=1),
    S(type="red", profile="red_medium", region="Tuscany", country="Italy", appellation="Chianti Classico",
      grape="Sangiovese", price=(18, 36), abv=(13.5, 14.0), vintages=(2018, 2021),
      producers=["Fontodi", "Castello di Ama", "Fèlsina", "Castello di Volpaia", "Querciabella"],
      labels=["", "Riserva", "Gran Selezione"], n=3),
    S(type="red", profile="red_full", region="Tuscany", country="Italy", appellation="Brunello di Montalcino",
      grape="Sangiovese", price=(55, 140), abv=(14.0, 14.5), vintages=(2015, 2018),
      producers=["Il Poggione", "Col d'Orcia", "Casanova di Neri", "Argiano"], labels=["", "Riserva"], n=2),
    S(type="red", profile="red_full", region="Tuscany", country="Italy", appellation="Bolgheri Rosso",
      grape="Cabernet Sauvignon, Merlot, Cabernet Franc", price=(28, 60), abv=(14.0, 14.5),
      vintages=(2019, 2021), producers=["Tenuta Guado al Tasso", "Le Macchiole", "Podere Sapaio"],
      labels=["", "Superiore"], n=1),
    S(type="red", profile="red_full", region="Piedmont", country="Italy", appellation="Barolo",
      grape="Nebbiolo", price=(50, 160), abv=(14.0, 14.5), vintages=(2015, 2019),
      producers=["G.D. Vajra", "Massolino", "Elio Grasso", "Paolo Scavino", "Pio Cesare"],
      labels=["", "Bussia", "Serralunga d'Alba", "Castiglione", "Riserva"], n=3),
    S(type="red", profile="red_medium", region="Piedmont", country="Italy", appellation="Barbaresco",
      grape="Nebbiolo", price=(45, 95), abv=(14.0, 14.5), vintages=(2017, 2020),
      producers=["Produttori del Barbaresco", "Marchesi di Grésy"], labels=["", "Martinenga"], n=1),
    S(type="red", profile="red_medium", region="Piedmont", country="Italy", appellation="Barbera d'Asti",
      grape="Barbera", price=(15, 28), abv=(13.5, 14.5), vintages=(2020, 2022),
      producers=["Braida", "Michele Chiarlo", "Vietti"], labels=["Superiore", "Tre Vigne", "Le Orme"], n=1),
    S(type="red", profile="red_medium", region="Veneto", country="Italy",
      appellation="Valpolicella Ripasso", grape="Corvina, Rondinella", price=(20, 32), abv=(13.5, 14.0),
      vintages=(2019, 2021), producers=["Zenato", "Tommasi", "Speri"], labels=["Superiore", "Classico Superiore"],
      n=1),
    S(type="red", profile="red_full", region="Veneto", country="Italy",
      appellation="Amarone della Valpolicella", grape="Corvina, Rondinella, Molinara", price=(55, 125),
      abv=(15.0, 16.5), vintages=(2015, 2018), producers=["Zenato", "Masi", "Allegrini", "Tedeschi"],
      labels=["Classico", "Classico Riserva"], n=2),
    S(type="red", profile="red_full", region="Puglia", country="Italy", appellation="Primitivo di Manduria",
      grape="Primitivo", price=(16, 28), abv=(14.5, 15.0), vintages=(2020, 2022),
      producers=["Feudi di San Marzano", "Cantine San Marzano", "Masseria Li Veli"],
      labels=["Sessantanni", "Riserva", ""],
      n=1),
    S(type="red", profile="red_medium", region="Rioja", country="Spain", appellation="Rioja",
      grape="Tempranillo, Garnacha", price=(18, 48), abv=(13.5, 14.0), vintages=(2014, 2019),
      producers=["La Rioja Alta", "CVNE", "Marqués de Murrieta", "Bodegas Muga", "López de Heredia"],
      labels=[("Crianza", 0.7), ("Reserva", 1.0), ("Gran Reserva", 1.5)], n=4),
    S(type="red", profile="red_full", region="Ribera del Duero", country="Spain",
      appellation="Ribera del Duero", grape="Tempranillo", price=(25, 70), abv=(14.0, 14.5),
      vintages=(2016, 2020), producers=["Bodegas Pesquera", "Bodegas Emilio Moro", "Dominio de Atauta"],
      labels=["Crianza", "Reserva", "Tinto Fino"], n=2),
    S(type="red", profile="red_full", region="Priorat", country="Spain", appellation="Priorat",
      grape="Garnacha, Cariñena", price=(35, 90), abv=(14.5, 15.0), vintages=(2017, 2020),
      producers=["Álvaro Palacios", "Mas Doix", "Clos Mogador"], labels=["Negre", "Vi de Vila", "Crianza"],
      n=1),
    S(type="red", profile="red_full", region="Napa Valley", country="USA", appellation="Napa Valley",
      grape="Cabernet Sauvignon", price=(45, 185), abv=(14.5, 15.0), vintages=(2017, 2021),
      producers=["Stag's Leap Wine Cellars", "Heitz Cellar", "Chappellet", "Frog's Leap", "Corison",
      "Silver Oak", "Cakebread Cellars"], labels=["Cabernet Sauvignon", "Reserve Cabernet Sauvignon",
      "Signature Cabernet Sauvignon", "Estate Cabernet Sauvignon"], n=4, fmt="{producer} {appellation} {label}"),
    S(type="red", profile="red_light", region="Sonoma County", country="USA", appellation="Russian River Valley",
      grape="Pinot Noir", price=(32, 70), abv=(13.5, 14.2), vintages=(2019, 2022),
      producers=["Williams Selyem", "Merry Edwards", "Gary Farrell", "Lynmar Estate"],
      labels=["Pinot Noir", "Olivet Lane Pinot Noir", "Estate Pinot Noir"], n=2),
    S(type="red", profile="red_light", region="Willamette Valley", country="USA",
      appellation="Willamette Valley", grape="Pinot Noir", price=(26, 65), abv=(13.0, 13.8),
      vintages=(2019, 2022), producers=["Domaine Drouhin Oregon", "Bergström", "Eyrie Vineyards",
      "Adelsheim", "Cristom"], labels=["Pinot Noir", "Dundee Hills Pinot Noir", "Reserve Pinot Noir"], n=3),
    S(type="red", profile="red_full", region="Sonoma County", country="USA", appellation="",
      grape="Zinfandel", price=(22, 48), abv=(14.5, 15.5), vintages=(2019, 2021),
      producers=["Ridge Vineyards", "Seghesio", "Ravenswood", "Turley"], labels=["Old Vine Zinfandel",
      "Dry Creek Valley Zinfandel", "Estate Zinfandel", "Zinfandel"], n=2),
    S(type="red", profile="red_full", region="Columbia Valley", country="USA", appellation="Columbia Valley",
      grape="Syrah", price=(18, 42), abv=(14.0, 14.8), vintages=(2019, 2021),
      producers=["Chateau Ste. Michelle", "K Vintners", "L'Ecole No 41", "Columbia Crest"],
      labels=["Syrah", ("Merlot", 1.0, {"grape": "Merlot"}),
      ("Red Blend", 1.0, {"grape": "Cabernet Sauvignon, Merlot, Syrah"})], n=2),
    S(type="red", profile="red_full", region="Mendoza", country="Argentina", appellation="Mendoza",
      grape="Malbec", price=(12, 48), abv=(13.8, 14.5), vintages=(2019, 2022),
      producers=["Catena Zapata", "Bodega Norton", "Achával-Ferrer", "Zuccardi", "Bodega Colomé"],
      labels=[("Malbec", 0.6), ("Reserva Malbec", 0.9), ("Alta Malbec", 1.2), ("Uco Valley Malbec", 1.0)], n=4),
    S(type="red", profile="red_medium", region="Colchagua Valley", country="Chile", appellation="Colchagua",
      grape="Carmenère", price=(12, 28), abv=(13.5, 14.0), vintages=(2020, 2022),
      producers=["Montes", "Casa Silva", "Viña Errázuriz"], labels=["Reserva Carmenère", "Gran Reserva Carmenère"],
      n=1),
    S(type="red", profile="red_full", region="Maipo Valley", country="Chile", appellation="Maipo Valley",
      grape="Cabernet Sauvignon", price=(14, 38), abv=(13.5, 14.5), vintages=(2019, 2021),
      producers=["Concha y Toro", "Santa Rita", "Viña Haras de Pirque"], labels=["Cabernet Sauvignon",
      "Reserva Cabernet Sauvignon", "Gran Reserva Cabernet Sauvignon"], n=1),
    S(type="red", profile="red_full", region="Barossa Valley", country="Australia", appellation="Barossa Valley",
      grape="Shiraz", price=(20, 95), abv=(14.5, 15.0), vintages=(2017, 2021),
      producers=["Torbreck", "Henschke", "Yalumba", "Rockford", "St Hallett"], labels=["Shiraz", "Old Vine Shiraz",
      "Estate Shiraz", "Basket Press Shiraz"], n=3),
    S(type="red", profile="red_full", region="Coonawarra", country="Australia", appellation="Coonawarra",
      grape="Cabernet Sauvignon", price=(22, 48), abv=(14.0, 14.5), vintages=(2018, 2021),
      producers=["Wynns", "Penley Estate", "Majella"],
      labels=["Black Label Cabernet Sauvignon", "Cabernet Sauvignon"],
      n=1),
    S(type="red", profile="red_medium", region="Stellenbosch", country="South Africa", appellation="Stellenbosch",
      grape="Pinotage", price=(16, 32), abv=(13.5, 14.5), vintages=(2019, 2021),
      producers=["Kanonkop", "Beyerskloof", "Simonsig"], labels=["Pinotage", "Reserve Pinotage"], n=1),
    S(type="red", profile="red_full", region="Douro", country="Portugal", appellation="Douro",
      grape="Touriga Nacional, Touriga Franca", price=(16, 45), abv=(13.5, 14.5), vintages=(2018, 2021),
      producers=["Quinta do Crasto", "Quinta do Vale Meão", "Prats & Symington"], labels=["Tinto", "Reserva",
      "Post Scriptum"], n=1),
    S(type="red", profile="red_light", region="Central Otago", country="New Zealand", appellation="Central Otago",
      grape="Pinot Noir", price=(32, 62), abv=(13.5, 14.0), vintages=(2019, 2022),
      producers=["Felton Road", "Rippon", "Mt. Difficulty"], labels=["Pinot Noir", "Bannockburn Pinot Noir"], n=1),

    S(type="red", profile="red_medium", region="Aragón", country="Spain", appellation="Campo de Borja",
      grape="Garnacha", price=(8, 12), abv=(14.0, 14.5), vintages=(2021, 2022),
      producers=["Bodegas Borsao", "Bodegas Aragonesas"], labels=["Garnacha", "Tres Picos Garnacha"], n=2),
    S(type="red", profile="red_medium", region="Sicily", country="Italy", appellation="Sicilia",
      grape="Nero d'Avola", price=(9, 15), abv=(13.5, 14.0), vintages=(2021, 2022),
      producers=["Donnafugata", "Planeta", "Cusumano"], labels=["Nero d'Avola", "Sedàra"], n=2),

    # ---------------------------------------------------------------------------- white wine
    S(type="white", profile="white_crisp", region="Languedoc", country="France", appellation="Pays d'Oc",
      grape="Sauvignon Blanc", price=(8, 12), abv=(12.0, 12.5), vintages=(2022, 2023),
      producers=["Domaine de Gourgazaud", "Les Jamelles"], labels=["Sauvignon Blanc", ("Viognier", 1.1,
      {"grape": "Viognier"})], n=2),
    S(type="white", profile="white_crisp", region="Burgundy", country="France", appellation="Chablis",
      grape="Chardonnay", price=(25, 45), abv=(12.5, 13.0), vintages=(2020, 2022),
      producers=["William Fèvre", "Domaine Christian Moreau", "Domaine Billaud-Simon", "Jean-Marc Brocard"],
      labels=["Vieilles Vignes", "Domaine", "Cuvée Réserve"], n=2),
    S(type="white", profile="white_crisp", region="Burgundy", country="France", appellation="Chablis",
      grape="Chardonnay", price=(28, 36), abv=(12.5, 12.5), vintages=(2021, 2022),
      producers=["Domaine Laroche"], labels=["Saint Martin"], n=1),
    S(type="white", profile="white_crisp", region="Burgundy", country="France", appellation="Chablis Premier Cru",
      grape="Chardonnay", price=(38, 72), abv=(12.5, 13.0), vintages=(2019, 2021),
      producers=["Domaine Laroche", "William Fèvre", "Domaine Louis Michel"], labels=["Montée de Tonnerre",
      "Vaillons", "Fourchaume"], n=2),
    S(type="white", profile="white_rich", region="Burgundy", country="France", appellation="Meursault",
      grape="Chardonnay", price=(60, 135), abv=(13.0, 13.5), vintages=(2018, 2021),
      producers=["Domaine Roulot", "Domaine Buisson-Charles", "Maison Joseph Drouhin"], labels=["", "Les Tillets",
      "Premier Cru Charmes"], n=2),
    S(type="white", profile="white_rich", region="Burgundy", country="France", appellation="Puligny-Montrachet",
      grape="Chardonnay", price=(75, 155), abv=(13.0, 13.5), vintages=(2018, 2021),
      producers=["Domaine Leflaive", "Domaine Jacques Carillon", "Olivier Leflaive"],
      labels=["", "Premier Cru Les Folatières"],
      n=2),
    S(type="white", profile="white_rich", region="Burgundy", country="France", appellation="Mâcon-Villages",
      grape="Chardonnay", price=(15, 24), abv=(13.0, 13.0), vintages=(2021, 2022),
      producers=["Domaine Guillot-Broux", "Cave de Lugny", "Domaine Héritiers du Comte Lafon"],
      labels=["", "Les Crays"],
      n=2),
    S(type="white", profile="white_rich", region="Burgundy", country="France", appellation="Pouilly-Fuissé",
      grape="Chardonnay", price=(30, 52), abv=(13.0, 13.5), vintages=(2020, 2022),
      producers=["Château-Fuissé", "Domaine Ferret", "Domaine Barraud"],
      labels=["Tête de Cru", "Vieilles Vignes"], n=2),
    S(type="white", profile="white_crisp", region="Loire Valley", country="France", appellation="Sancerre",
      grape="Sauvignon Blanc", price=(28, 48), abv=(12.5, 13.0), vintages=(2021, 2022),
      producers=["Domaine Vacheron", "Pascal Jolivet", "Henri Bourgeois", "Domaine Lucien Crochet",
      "Domaine Hippolyte Reverdy"], labels=["", "Les Caillottes", "La Côte des Monts Damnés"], n=3),
    S(type="white", profile="white_crisp", region="Loire Valley", country="France", appellation="Pouilly-Fumé",
      grape="Sauvignon Blanc", price=(28, 45), abv=(12.5, 13.0), vintages=(2021, 2022),
      producers=["Domaine Didier Dagueneau", "Ladoucette", "Domaine de Bel Air"], labels=["", "Les Berthiers"],
      n=2),
    S(type="white", profile="white_aromatic", region="Loire Valley", country="France", appellation="Vouvray",
      grape="Chenin Blanc", price=(20, 38), abv=(12.0, 13.0), vintages=(2020, 2022),
      producers=["Domaine Huet", "Domaine du Clos Naudin", "Vincent Carême"],
      labels=["Sec", "Demi-Sec", "Vieilles Vignes Sec"],
      n=2),
    S(type="white", profile="white_crisp", region="Loire Valley", country="France",
      appellation="Muscadet Sèvre et Maine Sur Lie", grape="Melon de Bourgogne", price=(12, 20), abv=(12.0, 12.0),
      vintages=(2021, 2022), producers=["Domaine de la Pépière", "Domaine Luneau-Papin", "Château de la Ragotière"],
      labels=[""], n=2),
    S(type="white", profile="white_aromatic", region="Alsace", country="France", appellation="Alsace",
      grape="Riesling", price=(20, 42), abv=(12.5, 13.5), vintages=(2019, 2022),
      producers=["Domaine Weinbach", "Trimbach", "Domaine Zind-Humbrecht", "Hugel"],
      labels=["Riesling", ("Riesling Grand Cru Schlossberg", 1.5), "Riesling Réserve",
      ("Gewurztraminer", 1.0, {"grape": "Gewurztraminer"}), ("Pinot Gris Réserve", 1.0, {"grape": "Pinot Gris"})], n=4),
    S(type="white", profile="white_aromatic", region="Mosel", country="Germany", appellation="",
      grape="Riesling", price=(18, 48), abv=(8.0, 9.5), vintages=(2019, 2022),
      producers=["Dr. Loosen", "Joh. Jos. Prüm", "Selbach-Oster", "Markus Molitor", "Weingut Karthäuserhof"],
      labels=[("Wehlener Sonnenuhr Riesling Kabinett", 1.0), ("Graacher Himmelreich Riesling Spätlese", 1.3),
      ("Blue Slate Riesling Dry", 0.8, {"abv": 12.0}), ("Bernkasteler Badstube Riesling Kabinett", 0.9)], n=4),
    S(type="white", profile="white_crisp", region="Wachau", country="Austria", appellation="",
      grape="Grüner Veltliner", price=(18, 40), abv=(12.5, 13.5), vintages=(2021, 2022),
      producers=["Domäne Wachau", "Weingut Prager", "Weingut Bründlmayer", "Weingut Hirsch"],
      labels=["Grüner Veltliner Federspiel", "Grüner Veltliner Smaragd", "Kamptal Grüner Veltliner"], n=2),
    S(type="white", profile="white_crisp", region="Alto Adige", country="Italy", appellation="Alto Adige",
      grape="Pinot Grigio", price=(14, 26), abv=(13.0, 13.5), vintages=(2021, 2022),
      producers=["Cantina Terlano", "Alois Lageder", "Elena Walch"],
      labels=["Pinot Grigio", ("Pinot Bianco", 1.0, {"grape": "Pinot Bianco"})], n=2),
    S(type="white", profile="white_crisp", region="Veneto", country="Italy", appellation="Soave Classico",
      grape="Garganega", price=(14, 26), abv=(12.5, 13.0), vintages=(2021, 2022),
      producers=["Pieropan", "Inama", "Suavia"], labels=["", "Calvarino", "Monte Carbonare"], n=2),
    S(type="white", profile="white_crisp", region="Piedmont", country="Italy", appellation="Gavi di Gavi",
      grape="Cortese", price=(18, 30), abv=(12.5, 12.5), vintages=(2022, 2022),
      producers=["La Scolca", "Villa Sparina"], labels=["", "Etichetta Nera"], n=1),
    S(type="white", profile="white_crisp", region="Sardinia", country="Italy", appellation="Vermentino di Sardegna",
      grape="Vermentino", price=(15, 25), abv=(13.0, 13.5), vintages=(2022, 2022),
      producers=["Argiolas", "Sella & Mosca"], labels=["Costamolino", "La Cala"], n=2),
    S(type="white", profile="white_crisp", region="Rías Baixas", country="Spain", appellation="Rías Baixas",
      grape="Albariño", price=(17, 32), abv=(12.5, 13.0), vintages=(2021, 2022),
      producers=["Pazo de Señoráns", "Bodegas Fillaboa", "Do Ferreiro", "Martín Códax"], labels=["Albariño",
      "Albariño Selección de Añada"], n=2),
    S(type="white", profile="white_crisp", region="Rueda", country="Spain", appellation="Rueda",
      grape="Verdejo", price=(12, 18), abv=(13.0, 13.0), vintages=(2022, 2022),
      producers=["Bodegas José Pariente", "Marqués de Riscal"], labels=["Verdejo"], n=2),
    S(type="white", profile="white_crisp", region="Minho", country="Portugal", appellation="Vinho Verde",
      grape="Alvarinho, Loureiro", price=(10, 18), abv=(11.0, 12.5), vintages=(2022, 2022),
      producers=["Quinta da Aveleda", "Anselmo Mendes", "Soalheiro"],
      labels=[("Alvarinho", 1.2, {"grape": "Alvarinho"}), ("Loureiro", 1.0, {"grape": "Loureiro"}), "Branco"], n=2),
    S(type="white", profile="white_crisp", region="Marlborough", country="New Zealand", appellation="Marlborough",
      grape="Sauvignon Blanc", price=(14, 32), abv=(12.5, 13.5), vintages=(2022, 2023),
      producers=["Cloudy Bay", "Dog Point", "Greywacke", "Villa Maria", "Te Koko Valley"],
      labels=["Sauvignon Blanc", "Wild Ferment Sauvignon Blanc", "Reserve Sauvignon Blanc"], n=4),
    S(type="white", profile="white_rich", region="Napa Valley", country="USA", appellation="Napa Valley",
      grape="Chardonnay", price=(25, 70), abv=(13.8, 14.5), vintages=(2020, 2022),
      producers=["Cakebread Cellars", "Far Niente", "Grgich Hills", "Chateau Montelena", "Frog's Leap"],
      labels=["Chardonnay", "Estate Chardonnay", "Carneros Chardonnay"], n=3),
    S(type="white", profile="white_rich", region="Sonoma County", country="USA", appellation="Sonoma Coast",
      grape="Chardonnay", price=(22, 55), abv=(13.5, 14.2), vintages=(2020, 2022),
      producers=["Hartford Court", "Sonoma-Cutrer", "Flowers", "Ramey"], labels=["Chardonnay",
      "Russian River Ranches Chardonnay"], n=2),
    S(type="white", profile="white_aromatic", region="Eden Valley", country="Australia", appellation="Eden Valley",
      grape="Riesling", price=(18, 32), abv=(11.5, 12.5), vintages=(2021, 2023),
      producers=["Pewsey Vale", "Henschke"], labels=["Riesling", "Julius Riesling"], n=2),
    S(type="white", profile="white_rich", region="Margaret River", country="Australia",
      appellation="Margaret River", grape="Chardonnay", price=(30, 65), abv=(13.0, 13.5), vintages=(2020, 2022),
      producers=["Leeuwin Estate", "Vasse Felix", "Cullen"], labels=["Chardonnay", "Heytesbury Chardonnay"], n=2),
    S(type="white", profile="white_rich", region="Swartland", country="South Africa", appellation="Swartland",
      grape="Chenin Blanc", price=(14, 32), abv=(13.0, 13.5), vintages=(2021, 2022),
      producers=["Badenhorst Family Wines", "Mullineux", "AA Badenhorst Secateurs"], labels=["Chenin Blanc",
      "Old Vines Chenin Blanc"], n=2),
    S(type="white", profile="white_crisp", region="Santorini", country="Greece", appellation="Santorini",
      grape="Assyrtiko", price=(26, 42), abv=(13.5, 14.0), vintages=(2021, 2022),
      producers=["Estate Argyros", "Domaine Sigalas", "Gaia Wines"],
      labels=["Assyrtiko", "Thalassitis Assyrtiko"], n=2),

    # ---------------------------------------------------------------------------- rosé
    S(type="rosé", profile="rose", region="Provence", country="France", appellation="Côtes de Provence",
      grape="Grenache, Cinsault, Syrah", price=(16, 32), abv=(12.5, 13.5), vintages=(2022, 2023),
      producers=["Château d'Esclans", "Domaine Ott", "Château Minuty", "Château de Berne", "Mirabeau",
      "Château Sainte Roseline"], labels=["Rosé", "Cuvée Prestige Rosé", "Réserve Rosé", "Les Terrasses Rosé",
      "Cru Classé Rosé"], n=4),
    S(type="rosé", profile="rose", region="Rhône Valley", country="France", appellation="Tavel",
      grape="Grenache, Cinsault", price=(20, 32), abv=(13.5, 14.0), vintages=(2022, 2022),
      producers=["Château d'Aquéria", "Domaine de la Mordorée", "Domaine Maby"], labels=["Rosé"], n=2),
    S(type="rosé", profile="rose", region="Provence", country="France", appellation="Bandol",
      grape="Mourvèdre, Grenache, Cinsault", price=(30, 46), abv=(13.0, 13.5), vintages=(2022, 2022),
      producers=["Domaine Tempier", "Château de Pibarnon", "Domaine de la Bégude"], labels=["Rosé"], n=2),
    S(type="rosé", profile="rose", region="Loire Valley", country="France", appellation="Sancerre",
      grape="Pinot Noir", price=(26, 36), abv=(12.5, 13.0), vintages=(2022, 2022),
      producers=["Domaine Vacheron", "Henri Bourgeois"], labels=["Rosé"], n=1),
    S(type="rosé", profile="rose", region="Navarra", country="Spain", appellation="Navarra",
      grape="Garnacha", price=(11, 18), abv=(13.0, 13.5), vintages=(2022, 2023),
      producers=["Bodegas Ochoa", "Bodega Inurrieta"], labels=["Rosado"], n=2),
    S(type="rosé", profile="rose", region="Sonoma County", country="USA", appellation="Sonoma",
      grape="Pinot Noir", price=(18, 30), abv=(12.8, 13.5), vintages=(2022, 2023),
      producers=["Bedrock Wine Co.", "Scribe Winery", "Balletto"], labels=["Rosé of Pinot Noir", "Ode to Lulu Rosé"],
      n=2),
    S(type="rosé", profile="rose", region="Veneto", country="Italy", appellation="Bardolino Chiaretto",
      grape="Corvina, Rondinella", price=(13, 20), abv=(12.5, 12.5), vintages=(2023, 2023),
      producers=["Zeni", "Guerrieri Rizzardi"], labels=["Classico", ""], n=1),

    # ---------------------------------------------------------------------------- sparkling
    S(type="sparkling", profile="sparkling", region="Champagne", country="France", appellation="Champagne",
      grape="Pinot Noir, Chardonnay, Pinot Meunier", price=(42, 78), abv=(12.0, 12.5), vintages=None,
      producers=["Bollinger", "Pol Roger", "Billecart-Salmon", "Taittinger", "Louis Roederer", "Charles Heidsieck",
      "Ruinart", "Laurent-Perrier", "Veuve Fourny & Fils", "Pierre Gimonnet"],
      labels=[("Brut NV", 1.0), ("Brut Premier Cru", 1.1), ("Brut Réserve", 1.0), ("Extra Brut", 1.05),
      ("Cuvée Tradition Brut", 1.0)], n=5),
    S(type="sparkling", profile="sparkling", region="Champagne", country="France", appellation="Champagne",
      grape="Chardonnay", price=(60, 120), abv=(12.0, 12.5), vintages=None,
      producers=["Ruinart", "Pierre Gimonnet", "Taittinger", "Veuve Fourny & Fils"],
      labels=["Blanc de Blancs Brut", "Blanc de Blancs Premier Cru Brut"], n=2),
    S(type="sparkling", profile="sparkling", region="Champagne", country="France", appellation="Champagne",
      grape="Pinot Noir, Chardonnay", price=(65, 110), abv=(12.0, 12.5), vintages=None,
      producers=["Billecart-Salmon", "Laurent-Perrier", "Bollinger"], labels=["Brut Rosé", "Cuvée Rosé"], n=2),
    S(type="sparkling", profile="sparkling", region="Champagne", country="France", appellation="Champagne",
      grape="Pinot Noir, Chardonnay", price=(95, 240), abv=(12.0, 12.5), vintages=(2008, 2015),
      producers=["Pol Roger", "Bollinger", "Louis Roederer", "Taittinger"], labels=["Brut Vintage",
      "Millésime Brut", "Prestige Cuvée Brut"], n=2),
    S(type="sparkling", profile="sparkling", region="Champagne", country="France", appellation="Champagne",
      grape="Pinot Noir, Chardonnay, Pinot Meunier", price=(95, 150), abv=(12.0, 12.5), vintages=None,
      producers=["Taittinger", "Charles Heidsieck"], labels=[("Brut Réserve Magnum", 1.0, {"volume_ml": 1500})],
      n=1),
    S(type="sparkling", profile="sparkling", region="Burgundy", country="France", appellation="Crémant de Bourgogne",
      grape="Chardonnay, Pinot Noir", price=(20, 30), abv=(12.0, 12.0), vintages=None,
      producers=["Louis Bouillot", "Domaine Parigot & Richard", "Veuve Ambal"], labels=["Brut", "Brut Rosé",
      "Grande Réserve Brut"], n=2),
    S(type="sparkling", profile="sparkling", region="Alsace", country="France", appellation="Crémant d'Alsace",
      grape="Pinot Blanc, Auxerrois", price=(18, 28), abv=(12.0, 12.0), vintages=None,
      producers=["Lucien Albrecht", "Domaine Allimant-Laugner"], labels=["Brut", "Brut Rosé"], n=2),
    S(type="sparkling", profile="sparkling", region="Veneto", country="Italy",
      appellation="Prosecco Superiore Valdobbiadene", grape="Glera", price=(14, 26), abv=(11.0, 11.5), vintages=None,
      producers=["Nino Franco", "Bisol", "Adami", "Bortolomiol", "Sorelle Bronca"], labels=["Brut", "Extra Dry",
      "Rustico", "Dry Cartizze"], n=3),
    S(type="sparkling", profile="sparkling", region="Lombardy", country="Italy", appellation="Franciacorta",
      grape="Chardonnay, Pinot Noir", price=(35, 58), abv=(12.5, 12.5), vintages=None,
      producers=["Ca' del Bosco", "Bellavista", "Berlucchi"], labels=["Cuvée Prestige Brut", "Alma Brut", "Satèn"],
      n=2),
    S(type="sparkling", profile="sparkling", region="Penedès", country="Spain", appellation="Cava",
      grape="Macabeo, Xarel·lo, Parellada", price=(12, 26), abv=(11.5, 12.0), vintages=None,
      producers=["Gramona", "Raventós i Blanc", "Juvé & Camps", "Segura Viudas"],
      labels=["Brut Reserva", "Brut Nature", "Reserva Heredad"], n=2),
    S(type="sparkling", profile="sparkling", region="Sussex", country="England", appellation="",
      grape="Chardonnay, Pinot Noir, Pinot Meunier", price=(42, 62), abv=(12.0, 12.0), vintages=None,
      producers=["Nyetimber", "Ridgeview", "Rathfinny"], labels=["Classic Cuvée", "Blanc de Blancs", "Bloomsbury"],
      n=2),
    S(type="sparkling", profile="sparkling", region="Anderson Valley", country="USA", appellation="",
      grape="Pinot Noir, Chardonnay", price=(25, 45), abv=(12.0, 12.5), vintages=None,
      producers=["Roederer Estate", "Scharffenberger", "Schramsberg"], labels=["Brut", "Brut Rosé", "Blanc de Noirs"],
      n=2),
    S(type="sparkling", profile="red_light", region="Emilia-Romagna", country="Italy",
      appellation="Lambrusco di Sorbara", grape="Lambrusco", price=(14, 20), abv=(11.0, 11.5), vintages=None,
      producers=["Cleto Chiarli", "Cantina della Volta"], labels=["Secco", "Vecchia Modena Premium"], n=1),
    S(type="sparkling", profile="white_aromatic", region="Piedmont", country="Italy", appellation="Moscato d'Asti",
      grape="Moscato Bianco", price=(14, 22), abv=(5.0, 5.5), vintages=(2022, 2023),
      producers=["Saracco", "Vietti", "La Spinetta"], labels=["", "Cascinetta", "Bricco Quaglia"], n=2),

    # ---------------------------------------------------------------------------- fortified and dessert
    S(type="fortified", profile="port", region="Douro", country="Portugal", appellation="",
      grape="Touriga Nacional, Touriga Franca, Tinta Roriz", price=(16, 20), abv=(19.5, 20.5), vintages=None,
      producers=["Graham's", "Taylor's", "Fonseca", "Dow's", "Niepoort", "Ramos Pinto"],
      labels=[("Fine Ruby Port", 1.0), ("Late Bottled Vintage Port", 1.6, {"vintage": 2018}),
      ("10 Year Old Tawny Port", 2.1), ("20 Year Old Tawny Port", 3.7), ("Reserve Ruby Port", 1.3)], n=6),
    S(type="fortified", profile="port", region="Douro", country="Portugal", appellation="",
      grape="Touriga Nacional, Touriga Franca, Tinta Roriz", price=(85, 145), abv=(20.0, 20.5),
      vintages=(2011, 2017), producers=["Taylor's", "Graham's", "Quinta do Noval"], labels=["Vintage Port"], n=2),
    S(type="fortified", profile="sherry", region="Jerez", country="Spain", appellation="",
      grape="Palomino", price=(14, 24), abv=(15.0, 15.0), vintages=None,
      producers=["González Byass", "Lustau", "Bodegas Tradición", "Valdespino", "Hidalgo"],
      labels=[("Fino en Rama", 1.0), ("Manzanilla Pasada", 0.9, {"volume_ml": 500}),
      ("Amontillado Viejo", 1.2, {"abv": 18.5}), ("Oloroso Seco", 1.3, {"abv": 20.0}),
      ("Pedro Ximénez", 1.4, {"abv": 17.0, "volume_ml": 375, "grape": "Pedro Ximénez"}),
      ("Palo Cortado", 1.3, {"abv": 19.0})], n=5),
    S(type="fortified", profile="sherry", region="Madeira", country="Portugal", appellation="",
      grape="Malvasia", price=(25, 45), abv=(19.0, 19.0), vintages=None, volume_ml=500,
      producers=["Blandy's", "Henriques & Henriques", "Barbeito"], labels=[("5 Year Old Malmsey Madeira", 1.0),
      ("10 Year Old Malmsey Madeira", 1.6), ("10 Year Old Sercial Madeira", 1.6, {"grape": "Sercial"})], n=2),
    S(type="dessert", profile="sweet", region="Bordeaux", country="France", appellation="Sauternes",
      grape="Sémillon, Sauvignon Blanc", price=(28, 58), abv=(13.5, 14.0), vintages=(2015, 2019),
      producers=["Château Suduiraut", "Château Doisy-Daëne", "Château Guiraud", "Château Rieussec"],
      labels=[("", 1.0, {"volume_ml": 375})], n=3),
    S(type="dessert", profile="sweet", region="Tokaj", country="Hungary", appellation="Tokaji Aszú",
      grape="Furmint, Hárslevelű", price=(45, 80), abv=(11.0, 12.0), vintages=(2013, 2017),
      producers=["Royal Tokaji", "Disznókő", "Oremus"], labels=[("5 Puttonyos", 1.0, {"volume_ml": 500})], n=2),
    S(type="dessert", profile="sweet", region="Niagara Peninsula", country="Canada", appellation="",
      grape="Vidal", price=(45, 70), abv=(9.5, 10.5), vintages=(2019, 2021),
      producers=["Inniskillin", "Peller Estates"], labels=[("Vidal Icewine", 1.0, {"volume_ml": 375})], n=2),
    S(type="dessert", profile="sweet", region="Rhône Valley", country="France",
      appellation="Muscat de Beaumes-de-Venise", grape="Muscat à Petits Grains", price=(18, 28), abv=(15.0, 15.0),
      vintages=(2020, 2021), producers=["Domaine de Durban", "Paul Jaboulet Aîné"],
      labels=[("", 1.0, {"volume_ml": 375})],
      n=1),

    # ---------------------------------------------------------------------------- whisky
    S(type="whisky", profile="scotch", region="Speyside", country="Scotland", appellation="Single Malt Scotch Whisky",
      grape="Malted barley", price=(45, 50), abv=(40.0, 43.0), vintages=None,
      producers=["Glen Aird", "Balvarran", "Craigdhu", "Glenmorven", "Strathallie"],
      labels=[("12 Year Old", 1.0), ("15 Year Old Sherry Cask", 1.6), ("18 Year Old", 2.6),
      ("Double Cask 14 Year Old", 1.4), ("Cask Strength", 1.7, {"abv": 58.6})], n=6,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="scotch_peat", region="Islay", country="Scotland",
      appellation="Single Malt Scotch Whisky",
      grape="Peated malted barley", price=(52, 60), abv=(43.0, 46.0), vintages=None,
      producers=["Port Ellister", "Kildalton Bay", "Lochindaal"], labels=[("10 Year Old", 1.0),
      ("16 Year Old", 1.9), ("Quarter Cask", 1.1, {"abv": 48.0}), ("Cask Strength", 1.5, {"abv": 57.1}),
      ("25 Year Old", 4.0)], n=5, fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="scotch", region="Highlands", country="Scotland",
      appellation="Single Malt Scotch Whisky",
      grape="Malted barley", price=(42, 48), abv=(40.0, 46.0), vintages=None,
      producers=["Ben Tarran", "Dalmhor", "Glen Corrie"],
      labels=[("12 Year Old", 1.0), ("14 Year Old Port Finish", 1.5),
      ("21 Year Old", 3.6), ("Virgin Oak", 1.1)], n=3, fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="scotch_peat", region="Islands", country="Scotland",
      appellation="Single Malt Scotch Whisky",
      grape="Malted barley", price=(48, 56), abv=(45.8, 46.0), vintages=None,
      producers=["Skerrivore", "Orkney Stane"], labels=[("10 Year Old", 1.0), ("18 Year Old", 2.4)], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="scotch", region="Scotland", country="Scotland", appellation="Blended Scotch Whisky",
      grape="Malted barley, grain", price=(24, 30), abv=(40.0, 40.0), vintages=None,
      producers=["Monarch's Crest", "Highland Thistle", "Black Heron"], labels=[("Finest", 1.0), ("12 Year Old", 1.5),
      ("Blended Malt Smoky Batch", 1.8, {"abv": 43.0})], n=2, fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="irish_japanese", region="County Cork", country="Ireland", appellation="Irish Whiskey",
      grape="Malted and unmalted barley", price=(28, 34), abv=(40.0, 43.0), vintages=None,
      producers=["Ballyknock", "Kinsale Harbour", "Three Ferries"],
      labels=[("Original", 1.0), ("Single Pot Still", 1.7),
      ("12 Year Old", 1.9), ("Black Barrel", 1.3)], n=3, fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="american", region="Kentucky", country="USA",
      appellation="Kentucky Straight Bourbon Whiskey",
      grape="Corn, rye, malted barley", price=(28, 36), abv=(45.0, 50.0), vintages=None,
      producers=["Old Cane Ridge", "Bardstown Hollow", "Elkhorn Creek", "Rickhouse Lane", "Limestone Branch"],
      labels=[("Small Batch", 1.0), ("Single Barrel", 1.7), ("Bottled-in-Bond", 1.1, {"abv": 50.0}),
      ("Wheated", 1.1), ("12 Year Old", 2.4), ("Barrel Proof", 2.0, {"abv": 62.4})], n=5,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="american", region="Kentucky", country="USA", appellation="Straight Rye Whiskey",
      grape="Rye, corn, malted barley", price=(32, 40), abv=(45.0, 50.0), vintages=None,
      producers=["Old Cane Ridge", "Bardstown Hollow", "Rolling Fork Distillers"],
      labels=[("Small Batch", 1.0), ("Single Barrel", 1.6), ("Bottled-in-Bond", 1.2, {"abv": 50.0})], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="american", region="Tennessee", country="USA", appellation="Tennessee Whiskey",
      grape="Corn, rye, malted barley", price=(26, 32), abv=(40.0, 45.0), vintages=None,
      producers=["Lynchburg Hollow", "Cumberland Gap"], labels=[("Old No. 12", 1.0), ("Single Barrel", 1.8)], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="irish_japanese", region="Yamanashi", country="Japan", appellation="Japanese Whisky",
      grape="Malted barley", price=(60, 70), abv=(43.0, 48.0), vintages=None,
      producers=["Hakuzan", "Kirihara", "Sakurao Hills"], labels=[("Distiller's Reserve", 1.0),
      ("Blended Harmony", 1.0), ("12 Year Old Single Malt", 2.2), ("Mizunara Cask", 2.6)], n=3,
      fmt="{producer} {label} {appellation}"),
    S(type="whisky", profile="american", region="Alberta", country="Canada", appellation="Canadian Whisky",
      grape="Rye, corn", price=(24, 30), abv=(40.0, 45.0), vintages=None,
      producers=["Northern Prairie", "Maple Crest"],
      labels=[("Rye Whisky", 1.0), ("Small Batch 10 Year Old", 1.6)], n=2,
      fmt="{producer} {label} {appellation}"),

    # ---------------------------------------------------------------------------- gin
    S(type="gin", profile="gin", region="London", country="England", appellation="London Dry Gin",
      grape="Juniper, coriander, angelica, lemon peel", price=(24, 36), abv=(40.0, 47.3), vintages=None,
      producers=["Kensington Botanicals", "Thameside", "Old Bermondsey", "Fleet Street Distillery", "Smithfield Still"],
      labels=[("", 1.0), ("Navy Strength", 1.3, {"abv": 57.0}), ("Export Strength", 1.1, {"abv": 47.0})], n=6,
      fmt="{producer} {label} {appellation}"),
    S(type="gin", profile="gin", region="Plymouth", country="England", appellation="Plymouth Gin",
      grape="Juniper, cardamom, orris root", price=(30, 34), abv=(41.2, 41.2), vintages=None,
      producers=["Barbican Quay"], labels=[("Original", 1.0)], n=1, fmt="{producer} {label} {appellation}"),
    S(type="gin", profile="gin", region="Scotland", country="Scotland", appellation="Gin",
      grape="Juniper, heather, sea buckthorn, cucumber", price=(32, 42), abv=(41.4, 46.0), vintages=None,
      producers=["Hebridean Isle", "Caledonia Botanical"], labels=[("Small Batch", 1.0), ("Seaweed Gin", 1.1)], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="gin", profile="gin", region="Oregon", country="USA", appellation="Gin",
      grape="Juniper, grapefruit, lavender, cucumber", price=(28, 38), abv=(42.0, 45.0), vintages=None,
      producers=["Cascade Ridge", "Portland Still Works", "Brooklyn Dockside"], labels=[("American Dry", 1.0),
      ("Barrel Reserve", 1.3), ("Old Tom", 1.0, {"abv": 40.0})], n=3, fmt="{producer} {label} {appellation}"),
    S(type="gin", profile="gin", region="Western Cape", country="South Africa", appellation="Gin",
      grape="Juniper, fynbos, citrus", price=(32, 40), abv=(43.0, 43.0), vintages=None,
      producers=["Cape Fynbos"], labels=[("Dry", 1.0)], n=1, fmt="{producer} {label} {appellation}"),
    S(type="gin", profile="gin", region="Galicia", country="Spain", appellation="Gin",
      grape="Juniper, Albariño grapes, lemon verbena", price=(34, 40), abv=(40.0, 40.0), vintages=None,
      producers=["Atlántica"], labels=[("Mediterranean", 1.0)], n=1, fmt="{producer} {label} {appellation}"),

    # ---------------------------------------------------------------------------- rum
    S(type="rum", profile="rum", region="Jamaica", country="Jamaica", appellation="Jamaican Rum",
      grape="Molasses", price=(26, 32), abv=(40.0, 46.0), vintages=None,
      producers=["Blue Hole Estate", "Montego Still", "Cockpit Country"], labels=[("Signature Blend", 1.0),
      ("8 Year Old", 1.5), ("Overproof White", 0.9, {"abv": 63.0}), ("12 Year Old", 1.9)], n=3,
      fmt="{producer} {label} {appellation}"),
    S(type="rum", profile="rum", region="Barbados", country="Barbados", appellation="Barbados Rum",
      grape="Molasses", price=(28, 34), abv=(40.0, 43.0), vintages=None,
      producers=["Bridgetown Reserve", "St. Lucy Estate"], labels=[("Eclipse", 0.9), ("Extra Old", 1.6),
      ("10 Year Old Cask Strength", 2.3, {"abv": 60.1})], n=2, fmt="{producer} {label} {appellation}"),
    S(type="rum", profile="rum", region="Martinique", country="France", appellation="Rhum Agricole",
      grape="Fresh sugar cane juice", price=(34, 40), abv=(40.0, 50.0), vintages=None,
      producers=["Habitation Bellerive", "Domaine du Carbet"], labels=[("Blanc", 0.9, {"abv": 50.0}), ("VSOP", 1.5),
      ("XO", 2.4)], n=2, fmt="{producer} {label} {appellation}"),
    S(type="rum", profile="rum", region="Guyana", country="Guyana", appellation="Demerara Rum",
      grape="Molasses", price=(30, 38), abv=(40.0, 40.0), vintages=None,
      producers=["Diamond Wharf"], labels=[("12 Year Old", 1.0), ("15 Year Old", 1.6)], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="rum", profile="rum", region="Puerto Rico", country="USA", appellation="Rum",
      grape="Molasses", price=(14, 20), abv=(35.0, 40.0), vintages=None,
      producers=["Isla Verde", "Old San Juan"], labels=[("Spiced", 1.0, {"abv": 35.0}), ("Carta Blanca", 0.9),
      ("Añejo Reserva", 1.6)], n=2, fmt="{producer} {label} {appellation}"),

    # ---------------------------------------------------------------------------- tequila and mezcal
    S(type="tequila", profile="tequila", region="Jalisco", country="Mexico", appellation="Tequila",
      grape="100% blue Weber agave", price=(32, 40), abv=(40.0, 40.0), vintages=None,
      producers=["Casa Altaluna", "Los Arcos de Jalisco", "Tres Agaves Altos", "El Valle Azul", "Hacienda Santa Rita"],
      labels=[("Blanco", 1.0), ("Reposado", 1.2), ("Añejo", 1.5), ("Extra Añejo", 3.2), ("Still Strength Blanco", 1.1,
      {"abv": 46.0})], n=9, fmt="{producer} {appellation} {label}"),
    S(type="mezcal", profile="mezcal", region="Oaxaca", country="Mexico", appellation="Mezcal",
      grape="Espadín agave", price=(38, 48), abv=(42.0, 48.0), vintages=None,
      producers=["Palenque San Baltazar", "Sierra Negra", "Tierra de Zapotecas"],
      labels=[("Espadín", 1.0), ("Tobalá", 2.0, {"grape": "Tobalá agave"}), ("Ensamble", 1.5,
      {"grape": "Espadín, Tobalá and Tepeztate agave"})], n=4, fmt="{producer} {appellation} {label}"),

    # ---------------------------------------------------------------------------- brandy
    S(type="brandy", profile="brandy", region="Cognac", country="France", appellation="Cognac",
      grape="Ugni Blanc", price=(36, 42), abv=(40.0, 40.0), vintages=None,
      producers=["Maison Delaroche", "Pierre Ferrand-Roux", "Domaine de Jarnac", "Château de Segonzac"],
      labels=[("VS", 1.0), ("VSOP", 1.5), ("XO", 4.2), ("Grande Champagne 1er Cru", 2.6)], n=5,
      fmt="{producer} {appellation} {label}"),
    S(type="brandy", profile="brandy", region="Gascony", country="France", appellation="Bas-Armagnac",
      grape="Baco Blanc, Ugni Blanc", price=(48, 58), abv=(40.0, 46.0), vintages=None,
      producers=["Château de Laubade-Haut", "Domaine Boingnères-Sud"], labels=[("VSOP", 1.0), ("XO", 1.8),
      ("1998 Vintage", 2.4, {"vintage": 1998})], n=2, fmt="{producer} {appellation} {label}"),
    S(type="brandy", profile="brandy", region="Normandy", country="France", appellation="Calvados Pays d'Auge",
      grape="Apples and pears", price=(38, 46), abv=(40.0, 42.0), vintages=None,
      producers=["Domaine du Verger Normand", "Christian Drouin-Lecompte"], labels=[("Fine", 0.9), ("VSOP", 1.2),
      ("15 Year Old", 2.2)], n=2, fmt="{producer} {appellation} {label}"),
    S(type="brandy", profile="brandy", region="Jerez", country="Spain", appellation="Brandy de Jerez",
      grape="Airén, Palomino", price=(28, 34), abv=(40.0, 40.0), vintages=None,
      producers=["Bodegas Cardenal Torres"], labels=[("Solera Gran Reserva", 1.2)], n=1,
      fmt="{producer} {appellation} {label}"),
    S(type="brandy", profile="brandy", region="Ica", country="Peru", appellation="Pisco",
      grape="Quebranta", price=(26, 32), abv=(40.0, 42.0), vintages=None,
      producers=["Bodega Viñas de Ica"], labels=[("Puro Quebranta", 1.0), ("Acholado", 1.1,
      {"grape": "Quebranta, Italia, Torontel"})], n=2, fmt="{producer} {appellation} {label}"),

    # ---------------------------------------------------------------------------- vodka
    S(type="vodka", profile="vodka", region="Podlasie", country="Poland", appellation="Vodka",
      grape="Rye", price=(22, 32), abv=(40.0, 40.0), vintages=None,
      producers=["Białowieża Reserve", "Królewska"], labels=[("Rye", 1.0), ("Bison Grass", 1.0,
      {"grape": "Rye, bison grass"})], n=2, fmt="{producer} {label} {appellation}"),
    S(type="vodka", profile="vodka", region="Cognac", country="France", appellation="Vodka",
      grape="French wheat", price=(34, 42), abv=(40.0, 40.0), vintages=None,
      producers=["Grand Blanc"], labels=[("", 1.0), ("Citron", 1.0, {"grape": "French wheat, lemon"})], n=2,
      fmt="{producer} {label} {appellation}"),
    S(type="vodka", profile="vodka", region="Texas", country="USA", appellation="Vodka",
      grape="Corn", price=(18, 24), abv=(40.0, 40.0), vintages=None,
      producers=["Lone Star Pot Still", "Hill Country"],
      labels=[("Handmade", 1.0), ("Handmade 1L", 1.2, {"volume_ml": 1000})],
      n=2, fmt="{producer} {label} {appellation}"),
    S(type="vodka", profile="vodka", region="Åhus", country="Sweden", appellation="Vodka",
      grape="Winter wheat", price=(22, 26), abv=(40.0, 40.0), vintages=None,
      producers=["Nordic Frost"], labels=[("", 1.0)], n=1, fmt="{producer} {label} {appellation}"),
    S(type="vodka", profile="vodka", region="Idaho", country="USA", appellation="Potato Vodka",
      grape="Potatoes", price=(24, 30), abv=(40.0, 40.0), vintages=None,
      producers=["Snake River Spirits"], labels=[("", 1.0)], n=1, fmt="{producer} {label} {appellation}"),

    # ---------------------------------------------------------------------------- liqueurs and aperitifs
    S(type="liqueur", profile="liqueur", region="Piedmont", country="Italy", appellation="",
      grape="Wine, herbs and spices", price=(18, 24), abv=(16.5, 18.0), vintages=None,
      producers=["Casa Torinese", "Vermouth di Bra"], labels=[("Vermouth di Torino Rosso", 1.0),
      ("Extra Dry Vermouth", 0.9), ("Bianco Vermouth", 0.95)], n=3),
    S(type="liqueur", profile="liqueur", region="Lombardy", country="Italy", appellation="",
      grape="Bitter orange, rhubarb, gentian", price=(26, 32), abv=(24.0, 28.0), vintages=None,
      producers=["Distilleria Brianza", "Casa Milano Rossa"],
      labels=[("Bitter Aperitivo", 1.0), ("Amaro", 1.1)], n=3),
    S(type="liqueur", profile="liqueur", region="Loire Valley", country="France", appellation="",
      grape="Bitter and sweet orange peel", price=(34, 40), abv=(40.0, 40.0), vintages=None,
      producers=["Maison Angevine"], labels=[("Triple Sec Orange Liqueur", 1.0)], n=1),
    S(type="liqueur", profile="liqueur", region="Zadar", country="Croatia", appellation="",
      grape="Marasca cherries", price=(32, 38), abv=(32.0, 32.0), vintages=None,
      producers=["Dalmatia Distillery"], labels=[("Maraschino Liqueur", 1.0)], n=1),
]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _a(word: str) -> str:
    """The word with its indefinite article: "a dry", "an opulent"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def tasting_notes(rng: random.Random, profile: str) -> str:
    p = PROFILES[profile]
    a1, a2, a3 = rng.sample(p["aroma"], 3)
    palate = rng.choice(p["palate"])
    texture = rng.choice(p["texture"])
    finish = rng.choice(p["finish"])
    templates = [
        f"{_cap(a1)} and {a2} on the nose, with {_a(palate)} palate and {texture}. {finish}",
        f"{_cap(_a(palate))} style showing {a1}, {a2} and a touch of {a3}. {_cap(texture)}. {finish}",
        f"Aromas of {a1} and {a2} lead to {_a(palate)} palate with {texture}. {finish}",
        f"{_cap(palate)} and expressive: {a1}, {a2} and {a3}, carried by {texture}. {finish}",
        f"Notes of {a1} and {a3} meet {a2} on {_a(palate)}, balanced palate. {finish}",
    ]
    return rng.choice(templates)


def food_pairing(rng: random.Random, profile: str) -> str:
    foods = PROFILES[profile]["food"]
    return ", ".join(rng.sample(foods, min(len(foods), rng.choice((2, 3, 3)))))


def round_price(rng: random.Random, value: float) -> float:
    """Shop-style prices: mostly .99, some .95 and .49, kept between 8 and 250 dollars."""
    value = max(8.0, min(value, 249.0))
    ending = rng.choice((0.99, 0.99, 0.99, 0.95, 0.49))
    return round(int(value) + ending, 2)


def stock_count(rng: random.Random, price: float) -> int:
    if rng.random() < 0.08:
        return 0
    if price > 120:
        return rng.randint(1, 6)
    if price > 50:
        return rng.randint(2, 24)
    return rng.randint(4, 72)


def build_products(seed: int) -> list[dict]:
    rng = random.Random(seed)
    counters = {"W": 0, "S": 0}
    names: set[str] = set()
    products: list[dict] = []
    for style in STYLES:
        labels = [lab if isinstance(lab, tuple) else (lab, 1.0) for lab in style["labels"]]
        combos = [(prod, lab) for prod in style["producers"] for lab in labels]
        rng.shuffle(combos)
        # Prefer a different producer for every pick in a style, then fill with the rest.
        picked, seen_producers = [], set()
        for combo in combos:
            if combo[0] not in seen_producers:
                picked.append(combo)
                seen_producers.add(combo[0])
        picked += [c for c in combos if c not in picked]
        made = 0
        for producer, label in picked:
            if made == style["n"]:
                break
            label_text, factor = label[0], label[1]
            over = label[2] if len(label) > 2 else {}
            fmt = style.get("fmt", "{producer} {appellation} {label}")
            name = " ".join(fmt.format(producer=producer, appellation=style["appellation"], label=label_text).split())
            if name in names:
                continue
            names.add(name)
            made += 1

            kind = style["type"]
            prefix = "W" if kind in WINE_TYPES else "S"
            counters[prefix] += 1
            sku = f"{prefix}-{counters[prefix]:04d}"

            vintage: int | str = ""
            if "vintage" in over:
                vintage = over["vintage"]
            elif style["vintages"]:
                vintage = rng.randint(*style["vintages"])
            lo, hi = style["price"]
            price = rng.uniform(lo, hi) * factor
            if isinstance(vintage, int) and style["vintages"]:
                price *= 1 + 0.03 * (style["vintages"][1] - vintage)
            volume = over.get("volume_ml", style.get("volume_ml", 750))
            if kind not in WINE_TYPES and "volume_ml" not in over and rng.random() < 0.12:
                volume = 700 if style["country"] in ("Scotland", "Japan", "Ireland", "England") else 1000
                if volume == 1000:
                    price *= 1.25
            price = round_price(rng, price)
            abv = over.get("abv", round(rng.uniform(*style["abv"]) * 2) / 2)

            products.append({
                "sku": sku,
                "name": name,
                "producer": producer,
                "type": kind,
                "category": CATEGORIES[kind],
                "region": style["region"],
                "country": style["country"],
                "grape": over.get("grape", style["grape"]),
                "vintage": vintage,
                "abv": f"{abv:.1f}",
                "volume_ml": volume,
                "price": f"{price:.2f}",
                "in_stock": stock_count(rng, price),
                "tasting_notes": tasting_notes(rng, style["profile"]),
                "food_pairing": food_pairing(rng, style["profile"]),
            })
        if made < style["n"]:
            raise SystemExit(f"style {style['appellation'] or style['grape']}: only {made} unique names")
    return products


def write_csv(products: list[dict], out: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(products)
    out.write_bytes(buffer.getvalue().encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).resolve().parent / "catalog.csv")
    args = parser.parse_args()
    products = build_products(args.seed)
    write_csv(products, args.output)
    print(f"wrote {len(products)} products to {args.output}")


if __name__ == "__main__":
    main()
