SELECT unit_cost FROM product_facts WHERE sku = :sku
