/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * schema.c - the records' tables: persons, vehicles, the hotlist, and the
 * access log (who read what, when, why).
 *
 * The tables are derived from the module's events (records.person.*,
 * records.vehicle.*, records.hotlist.*), except bulk imports: one
 * records.imported event names the import (its kind, rows and the SHA-256
 * of the validated input) instead of one event per row.
 */
#include "records/records_int.h"

const struct store_migration records_migrations[] = {
    {"records", 1,
     "CREATE TABLE persons ("
     "  id INTEGER PRIMARY KEY,"
     "  cin TEXT UNIQUE,"
     "  cin_digits TEXT,"
     "  given_ar TEXT NOT NULL, family_ar TEXT NOT NULL, father_ar TEXT NOT NULL,"
     "  given_lat TEXT NOT NULL, family_lat TEXT NOT NULL, father_lat TEXT NOT NULL,"
     "  aliases TEXT NOT NULL,"
     "  birth_date TEXT NOT NULL, birth_place TEXT NOT NULL,"
     "  nationality TEXT NOT NULL, sex TEXT NOT NULL,"
     "  addresses TEXT NOT NULL, phones TEXT NOT NULL,"
     "  updated_us INTEGER NOT NULL, updated_by TEXT NOT NULL);"
     "CREATE INDEX persons_cin_digits ON persons(cin_digits);"
     "CREATE TABLE vehicles ("
     "  id INTEGER PRIMARY KEY,"
     "  plate TEXT NOT NULL,"
     "  plate_key TEXT NOT NULL UNIQUE,"
     "  plate_kind TEXT NOT NULL,"
     "  country TEXT NOT NULL,"
     "  vin TEXT UNIQUE,"
     "  make TEXT NOT NULL, model TEXT NOT NULL, colour TEXT NOT NULL,"
     "  year INTEGER NOT NULL,"
     "  owner_cin TEXT,"
     "  updated_us INTEGER NOT NULL, updated_by TEXT NOT NULL);"
     "CREATE INDEX vehicles_owner ON vehicles(owner_cin);"
     "CREATE TABLE hotlist ("
     "  id INTEGER PRIMARY KEY,"
     "  kind TEXT NOT NULL,"
     "  person_id INTEGER REFERENCES persons(id),"
     "  cin TEXT,"
     "  plate TEXT, plate_key TEXT, vin TEXT,"
     "  reason TEXT NOT NULL, service TEXT NOT NULL,"
     "  valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,"
     "  action TEXT NOT NULL, instructions TEXT NOT NULL,"
     "  created_us INTEGER NOT NULL, created_by TEXT NOT NULL,"
     "  cancelled_us INTEGER, cancelled_by TEXT, cancel_reason TEXT);"
     "CREATE INDEX hotlist_plate ON hotlist(plate_key);"
     "CREATE INDEX hotlist_cin ON hotlist(cin);"
     "CREATE INDEX hotlist_person ON hotlist(person_id);"
     "CREATE TABLE record_access ("
     "  id INTEGER PRIMARY KEY,"
     "  seq INTEGER NOT NULL,"
     "  ts_us INTEGER NOT NULL,"
     "  actor TEXT NOT NULL, role TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  reason TEXT NOT NULL, ref TEXT NOT NULL,"
     "  query TEXT NOT NULL,"
     "  results INTEGER NOT NULL);"
     "CREATE INDEX record_access_actor ON record_access(actor, ts_us);"
     "CREATE INDEX record_access_ts ON record_access(ts_us);"
     "CREATE TABLE record_access_subjects ("
     "  subject TEXT NOT NULL,"
     "  access_id INTEGER NOT NULL REFERENCES record_access(id),"
     "  PRIMARY KEY (subject, access_id)) WITHOUT ROWID;"},
    /*
     * A VIN's uniqueness as an index of its own (not a column constraint,
     * whose index cannot be dropped): a large import builds it after its
     * rows in one sorted pass instead of inserting millions of VINs in
     * random order (records.c, indexes_drop).
     */
    {"records", 2,
     "CREATE TABLE vehicles_new ("
     "  id INTEGER PRIMARY KEY,"
     "  plate TEXT NOT NULL,"
     "  plate_key TEXT NOT NULL UNIQUE,"
     "  plate_kind TEXT NOT NULL,"
     "  country TEXT NOT NULL,"
     "  vin TEXT,"
     "  make TEXT NOT NULL, model TEXT NOT NULL, colour TEXT NOT NULL,"
     "  year INTEGER NOT NULL,"
     "  owner_cin TEXT,"
     "  updated_us INTEGER NOT NULL, updated_by TEXT NOT NULL);"
     "INSERT INTO vehicles_new SELECT * FROM vehicles;"
     "DROP TABLE vehicles;"
     "ALTER TABLE vehicles_new RENAME TO vehicles;"
     "CREATE UNIQUE INDEX vehicles_vin ON vehicles(vin);"
     "CREATE INDEX vehicles_owner ON vehicles(owner_cin);"},
};

const size_t records_nmigrations = sizeof(records_migrations) / sizeof(records_migrations[0]);
