/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * schema.c - the CAD tables and the incident type code list.
 *
 * The types follow the spirit of APCO ANS 2.103 (common incident types for
 * data exchange) with the Moroccan police's needs (stadium and crowd
 * incidents, suspicious packages); they are rows, so an administrator adds
 * more through the API without a new release.
 */
#include "cad/cad_int.h"

const struct store_migration cad_migrations[] = {
    {"cad", 1,
     "CREATE TABLE logbook ("
     "  id INTEGER PRIMARY KEY,"
     "  seq INTEGER NOT NULL UNIQUE,"
     "  ts_us INTEGER NOT NULL,"
     "  author TEXT NOT NULL,"
     "  category TEXT NOT NULL,"
     "  text TEXT NOT NULL);"},
    {"cad", 2,
     "CREATE TABLE incident_types ("
     "  code TEXT PRIMARY KEY,"
     "  name_fr TEXT NOT NULL,"
     "  name_ar TEXT NOT NULL,"
     "  priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),"
     "  active INTEGER NOT NULL DEFAULT 1);"
     "INSERT INTO incident_types(code, name_fr, name_ar, priority) VALUES"
     " ('ASSAULT', 'Agression', 'اعتداء', 2),"
     " ('ASSAULT_WEAPON', 'Agression armée', 'اعتداء بالسلاح', 1),"
     " ('ROBBERY', 'Vol avec violence', 'سرقة بالعنف', 1),"
     " ('THEFT', 'Vol', 'سرقة', 3),"
     " ('BURGLARY', 'Cambriolage', 'سطو على مسكن', 2),"
     " ('VEHICLE_THEFT', 'Vol de véhicule', 'سرقة مركبة', 3),"
     " ('TRAFFIC_INJURY', 'Accident de la circulation avec blessés', 'حادثة سير بإصابات', 1),"
     " ('TRAFFIC_NOINJURY', 'Accident de la circulation sans blessés', 'حادثة سير بدون إصابات', 3),"
     " ('TRAFFIC_HAZARD', 'Danger sur la chaussée', 'خطر على الطريق', 3),"
     " ('DISTURBANCE', 'Tapage, trouble', 'إزعاج وإخلال بالهدوء', 3),"
     " ('DOMESTIC', 'Violence conjugale ou familiale', 'عنف أسري', 1),"
     " ('SUSPICIOUS_PERSON', 'Personne suspecte', 'شخص مشبوه', 3),"
     " ('SUSPICIOUS_VEHICLE', 'Véhicule suspect', 'مركبة مشبوهة', 3),"
     " ('SUSPICIOUS_PACKAGE', 'Colis suspect, objet abandonné', 'طرد مشبوه', 1),"
     " ('MISSING_PERSON', 'Personne disparue', 'شخص مفقود', 2),"
     " ('FIRE', 'Incendie', 'حريق', 1),"
     " ('PUBLIC_ORDER', 'Atteinte à l''ordre public', 'مساس بالنظام العام', 2),"
     " ('STADIUM_CROWD', 'Incident de foule ou de stade', 'حادث حشود أو ملعب', 1),"
     " ('DRUGS', 'Stupéfiants', 'مخدرات', 3),"
     " ('FRAUD', 'Escroquerie', 'نصب واحتيال', 4),"
     " ('VANDALISM', 'Dégradation de biens', 'إتلاف ممتلكات', 4),"
     " ('ALARM', 'Alarme', 'إنذار', 3),"
     " ('ANIMAL', 'Animal dangereux', 'حيوان خطير', 3),"
     " ('WELFARE_CHECK', 'Vérification de l''état d''une personne', 'تفقد حالة شخص', 3),"
     " ('OTHER', 'Autre', 'أخرى', 4);"
     "CREATE TABLE incident_numbers ("
     "  prefecture TEXT NOT NULL,"
     "  year INTEGER NOT NULL,"
     "  last INTEGER NOT NULL,"
     "  PRIMARY KEY (prefecture, year)) WITHOUT ROWID;"
     "CREATE TABLE incidents ("
     "  id INTEGER PRIMARY KEY,"
     "  number TEXT NOT NULL UNIQUE,"
     "  status TEXT NOT NULL,"
     "  type TEXT NOT NULL REFERENCES incident_types(code),"
     "  priority INTEGER NOT NULL,"
     "  caller_name TEXT, caller_phone TEXT,"
     "  lat REAL, lon REAL, address TEXT,"
     "  narrative TEXT,"
     "  region_code TEXT, region_fr TEXT, region_ar TEXT,"
     "  prefecture_code TEXT, prefecture_fr TEXT, prefecture_ar TEXT,"
     "  sector_code TEXT, sector_fr TEXT, sector_ar TEXT,"
     "  disposition TEXT, merged_into INTEGER REFERENCES incidents(id),"
     "  call_us INTEGER NOT NULL, created_us INTEGER NOT NULL, dispatched_us INTEGER,"
     "  enroute_us INTEGER, onscene_us INTEGER, closed_us INTEGER, updated_us INTEGER NOT NULL);"
     "CREATE INDEX incidents_status ON incidents(status, id);"
     "CREATE TABLE incident_notes ("
     "  id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES incidents(id),"
     "  ts_us INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);"
     "CREATE INDEX incident_notes_incident ON incident_notes(incident_id);"
     "CREATE TABLE incident_links ("
     "  a INTEGER NOT NULL REFERENCES incidents(id), b INTEGER NOT NULL REFERENCES incidents(id),"
     "  PRIMARY KEY (a, b)) WITHOUT ROWID;"
     "CREATE TABLE incident_events ("
     "  incident_id INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (incident_id, seq))"
     "  WITHOUT ROWID;"
     "CREATE TABLE units ("
     "  id INTEGER PRIMARY KEY,"
     "  callsign TEXT NOT NULL UNIQUE,"
     "  kind TEXT NOT NULL,"
     "  capabilities TEXT NOT NULL DEFAULT '[]',"
     "  crew TEXT NOT NULL DEFAULT '[]',"
     "  home_sector TEXT,"
     "  status TEXT NOT NULL,"
     "  status_us INTEGER NOT NULL,"
     "  touched_us INTEGER NOT NULL,"
     "  incident_id INTEGER REFERENCES incidents(id),"
     "  alerted INTEGER NOT NULL DEFAULT 0,"
     "  created_us INTEGER NOT NULL);"
     "CREATE TABLE assignments ("
     "  id INTEGER PRIMARY KEY,"
     "  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
     "  unit_id INTEGER NOT NULL REFERENCES units(id),"
     "  is_primary INTEGER NOT NULL,"
     "  assigned_us INTEGER NOT NULL, released_us INTEGER,"
     "  override_reason TEXT);"
     "CREATE INDEX assignments_incident ON assignments(incident_id);"
     "CREATE UNIQUE INDEX assignments_active_unit ON assignments(unit_id)"
     "  WHERE released_us IS NULL;"},
    {"cad", 3,
     "CREATE TABLE premise_notes ("
     "  id INTEGER PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL,"
     "  radius_m INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,"
     "  author TEXT NOT NULL, created_us INTEGER NOT NULL);"
     "CREATE INDEX premise_notes_lat ON premise_notes(lat);"},
    /* Found under load (bench/cad): notes scanned every unit, links every link. */
    {"cad", 4,
     "CREATE INDEX units_incident ON units(incident_id);"
     "CREATE INDEX incident_links_b ON incident_links(b);"},
    /* Last known positions, for recommendations by road (docs/routing.md). */
    {"cad", 5,
     "ALTER TABLE units ADD COLUMN lat REAL;"
     "ALTER TABLE units ADD COLUMN lon REAL;"
     "ALTER TABLE units ADD COLUMN position_us INTEGER;"
     "CREATE INDEX units_status ON units(status);"},
    {"cad", 6,
     /* Where the position lies on the road graph snap_graph (geo_roads_id()), so that a
      * recommendation does not snap every unit again; snap_edge NULL: off-road. */
     "ALTER TABLE units ADD COLUMN snap_graph INTEGER;"
     "ALTER TABLE units ADD COLUMN snap_edge INTEGER;"
     "ALTER TABLE units ADD COLUMN snap_frac REAL;"
     "ALTER TABLE units ADD COLUMN snap_m REAL;"},
    {"cad", 7,
     /* The patrol terminal (mdt.c): who crews which unit, and the room's messages to units. */
     "CREATE TABLE unit_signons ("
     "  username TEXT PRIMARY KEY,"
     "  unit_id INTEGER NOT NULL REFERENCES units(id),"
     "  since_us INTEGER NOT NULL);"
     "CREATE INDEX unit_signons_unit ON unit_signons(unit_id);"
     "CREATE TABLE unit_messages ("
     "  id INTEGER PRIMARY KEY,"
     "  unit_id INTEGER NOT NULL REFERENCES units(id),"
     "  kind TEXT NOT NULL CHECK (kind IN ('message', 'ping')),"
     "  text TEXT NOT NULL,"
     "  sender TEXT NOT NULL,"
     "  sent_us INTEGER NOT NULL,"
     "  acked_us INTEGER,"
     "  acked_by TEXT);"
     "CREATE INDEX unit_messages_unit ON unit_messages(unit_id, id);"},
};
const size_t cad_nmigrations = sizeof(cad_migrations) / sizeof(cad_migrations[0]);
