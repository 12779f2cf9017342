-- Source of shop.sqlite (the SQL task's database). Rebuild: sqlite3 shop.sqlite < shop.sql
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL, joined INTEGER NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price REAL NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                     product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,
                     day TEXT NOT NULL);
INSERT INTO customers VALUES
 (1,'Ada','Lyon',2019),(2,'Bram','Ghent',2020),(3,'Chiara','Turin',2021),(4,'Dmitri','Lyon',2021),
 (5,'Elif','Izmir',2022),(6,'Femi','Lagos',2022),(7,'Greta','Ghent',2023),(8,'Hugo','Turin',2023);
INSERT INTO products VALUES
 (1,'kettle','kitchen',24.5),(2,'teapot','kitchen',18.0),(3,'lamp','home',32.0),(4,'rug','home',75.0),
 (5,'notebook','office',4.25),(6,'pen set','office',9.5),(7,'mug','kitchen',7.75),(8,'desk chair','office',120.0);
INSERT INTO orders VALUES
 (1,1,1,1,'2024-01-03'),(2,1,7,4,'2024-01-03'),(3,2,3,2,'2024-01-05'),(4,3,5,10,'2024-01-09'),
 (5,3,6,2,'2024-01-09'),(6,4,4,1,'2024-01-12'),(7,5,2,1,'2024-01-15'),(8,5,7,2,'2024-01-15'),
 (9,6,8,1,'2024-01-20'),(10,7,5,3,'2024-01-22'),(11,7,1,1,'2024-01-25'),(12,1,3,1,'2024-02-01'),
 (13,2,5,5,'2024-02-02'),(14,8,6,1,'2024-02-04'),(15,4,7,6,'2024-02-07'),(16,6,2,2,'2024-02-10'),
 (17,3,8,1,'2024-02-11'),(18,5,4,1,'2024-02-14'),(19,2,7,2,'2024-02-18'),(20,1,5,2,'2024-02-20');
