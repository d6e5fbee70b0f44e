-- Run by mariadbd (--init-file) at every start, so it must be idempotent. hack/components/mariadb.sh renders
-- @PASSWORD@ into $DARWIN_RUN/data/mariadb-init.sql.
CREATE DATABASE IF NOT EXISTS darwin CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '@PASSWORD@';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
