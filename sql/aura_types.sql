--
-- aura_types: values of the common core types survive a round trip through
-- an aura table unchanged -- compared with the same rows stored in heap.
--

CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE types_pair AS (x int, label text);
CREATE DOMAIN types_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN types_short_text AS varchar(20) NOT NULL DEFAULT 'dflt';

CREATE TABLE types_h (
  id int,
  c_int2 int2, c_int4 int4, c_int8 int8,
  c_numeric numeric, c_num_scaled numeric(12,4),
  c_float4 float4, c_float8 float8,
  c_text text, c_varchar varchar(30), c_char char(8), c_name name,
  c_bytea bytea, c_bool bool,
  c_date date, c_time time, c_timetz timetz, c_timestamp timestamp,
  c_timestamptz timestamptz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_macaddr8 macaddr8,
  c_point point, c_box box, c_polygon polygon, c_circle circle,
  c_path path, c_lseg lseg, c_line line,
  c_tsvector tsvector, c_tsquery tsquery,
  c_int4range int4range, c_tstzrange tstzrange, c_numrange numrange,
  c_int_arr int[], c_text_arr text[], c_2d_arr int[][],
  c_pair types_pair, c_pair_arr types_pair[],
  c_mood types_mood, c_posint types_posint, c_short types_short_text,
  c_money money, c_bit bit(6), c_varbit varbit(20), c_oid oid,
  c_regclass regclass, c_pg_lsn pg_lsn, c_char1 "char"
) USING heap;
CREATE TABLE types_a (LIKE types_h INCLUDING ALL) USING aura;

SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 3;
SET lc_monetary = 'C';

INSERT INTO types_h VALUES
(1, 0, 0, 0, 0, 0, 0, 0, '', '', '', '', '\x', false,
 '2000-01-01', '00:00', '00:00+00', '2000-01-01 00:00', '2000-01-01 00:00+00', '0',
 '00000000-0000-0000-0000-000000000000', '{}', '{}', '<a/>',
 '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00',
 '(0,0)', '((0,0),(0,0))', '((0,0))', '<(0,0),0>',
 '[(0,0)]', '[(0,0),(1,1)]', '{1,-1,0}',
 '', 'a', 'empty', 'empty', 'empty',
 '{}', '{}', '{}', ROW(0, ''), '{}',
 'sad', 1, DEFAULT, 0, B'000000', B'', 0, 'pg_class', '0/0', 'a'),
(2, 32767, 2147483647, 9223372036854775807,
 123456789012345678901234567890.123456789, 12345678.1234,
 3.14159, 2.718281828459045, 'hello, world', 'varchar value', 'chr',
 'a_name', '\xdeadbeef00ff', true,
 '2024-02-29', '23:59:59.999999', '12:34:56.789+05:30', '2024-02-29 12:34:56.789012',
 '2024-02-29 12:34:56.789012+02', '1 year 2 mons 3 days 04:05:06.789',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '{"a": [1, 2, {"b": null}], "c": "d"}', '{"a": [1, 2, {"b": null}], "c": "d", "n": 1.50}',
 '<doc><p id="1">text &amp; more</p></doc>',
 '192.168.1.10/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 '(1.5,-2.25)', '((1,2),(3,4))', '((0,0),(4,0),(4,3),(0,3))', '<(1,1),5>',
 '((0,0),(1,1),(2,0))', '[(0,0),(3,4)]', '{2,3,4}',
 'the quick brown fox jumps over the lazy dog', 'fox & (dog | cat) & !bird',
 '[1,10)', '[2024-01-01 00:00+00,2024-12-31 00:00+00)', '(0.5,1.5]',
 '{1,2,3,NULL,5}', '{"a","b c",NULL,"\"quoted\""}', '{{1,2},{3,4}}',
 ROW(42, 'forty-two'), ARRAY[ROW(1, 'one'), ROW(2, 'two')]::types_pair[],
 'happy', 2147483647, 'short', 12345.67, B'101010', B'1100110011', 4294967295,
 'pg_type', '16/B374D848', 'z'),
(3, -32768, -2147483648, -9223372036854775808,
 -0.000000000000000000001, -99999999.9999,
 '-Infinity', 'NaN', repeat('long text ', 300), NULL, NULL,
 NULL, decode(repeat('00ff', 2000), 'hex'), NULL,
 'infinity', NULL, NULL, '-infinity', 'infinity', '-178000000 years',
 NULL, '[1, "two", 3.0, true, null]', '[1, "two", 3.0, true, null]', NULL,
 '::1', '2001:db8::/32', NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 to_tsvector('english', 'Aura stores rows in a log structured layout'),
 to_tsquery('english', 'stores & layout'),
 '(,5]', NULL, '[1,1]',
 ARRAY(SELECT generate_series(1, 1000)), ARRAY(SELECT 'elem' || g FROM generate_series(1, 500) g), NULL,
 ROW(NULL, NULL), NULL,
 'ok', 3, 'x', -92233720368547758.08, B'111111', B'0', 1, 'pg_am', 'FFFFFFFF/FFFFFFFF', '\001'),
(4, NULL, NULL, NULL, NULL, NULL, 'Infinity', '-0', NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- the same rows into aura (row 3 is wide enough to move values to blobs)
INSERT INTO types_a SELECT * FROM types_h;

-- both directions of EXCEPT ALL are empty (types without equality, such
-- as point, box, ..., json and xml, are compared by their text form)
CREATE VIEW types_h_txt AS
  SELECT id, c_int2, c_int4, c_int8, c_numeric, c_num_scaled, c_float4, c_float8,
         c_text, c_varchar, c_char, c_name, c_bytea, c_bool, c_date, c_time, c_timetz,
         c_timestamp, c_timestamptz, c_interval, c_uuid, c_json::text AS c_json, c_jsonb,
         c_xml::text AS c_xml, c_inet, c_cidr, c_macaddr, c_macaddr8,
         c_point::text AS c_point, c_box::text AS c_box, c_polygon::text AS c_polygon,
         c_circle::text AS c_circle, c_path::text AS c_path, c_lseg::text AS c_lseg,
         c_line::text AS c_line, c_tsvector, c_tsquery, c_int4range, c_tstzrange,
         c_numrange, c_int_arr, c_text_arr, c_2d_arr, c_pair, c_pair_arr, c_mood,
         c_posint, c_short, c_money, c_bit, c_varbit, c_oid, c_regclass, c_pg_lsn, c_char1
    FROM types_h;
CREATE VIEW types_a_txt AS
  SELECT id, c_int2, c_int4, c_int8, c_numeric, c_num_scaled, c_float4, c_float8,
         c_text, c_varchar, c_char, c_name, c_bytea, c_bool, c_date, c_time, c_timetz,
         c_timestamp, c_timestamptz, c_interval, c_uuid, c_json::text AS c_json, c_jsonb,
         c_xml::text AS c_xml, c_inet, c_cidr, c_macaddr, c_macaddr8,
         c_point::text AS c_point, c_box::text AS c_box, c_polygon::text AS c_polygon,
         c_circle::text AS c_circle, c_path::text AS c_path, c_lseg::text AS c_lseg,
         c_line::text AS c_line, c_tsvector, c_tsquery, c_int4range, c_tstzrange,
         c_numrange, c_int_arr, c_text_arr, c_2d_arr, c_pair, c_pair_arr, c_mood,
         c_posint, c_short, c_money, c_bit, c_varbit, c_oid, c_regclass, c_pg_lsn, c_char1
    FROM types_a;
SELECT count(*) AS h_minus_a FROM (SELECT * FROM types_h_txt EXCEPT ALL SELECT * FROM types_a_txt) x;
SELECT count(*) AS a_minus_h FROM (SELECT * FROM types_a_txt EXCEPT ALL SELECT * FROM types_h_txt) x;
-- whole-row text form is byte-identical as well
SELECT count(*) AS differing_rows
  FROM types_h h FULL JOIN types_a a USING (id)
 WHERE h::text IS DISTINCT FROM a::text;
-- and so is the text form of every single column (per row: one md5 over
-- the md5s of all columns)
SELECT id, md5(string_agg(coalesce(md5(v), 'null'), ',' ORDER BY k)) = h_sig AS same_text_per_column
  FROM types_a a,
       LATERAL jsonb_each_text(to_jsonb(a)) AS j(k, v),
       LATERAL (SELECT md5(string_agg(coalesce(md5(v2), 'null'), ',' ORDER BY k2)) AS h_sig
                  FROM types_h h, LATERAL jsonb_each_text(to_jsonb(h)) AS j2(k2, v2)
                 WHERE h.id = a.id) s
 GROUP BY id, h_sig ORDER BY id;

-- the aura rows, column by column
\x on
SELECT * FROM types_a WHERE id IN (1, 2, 4) ORDER BY id;
\x off
SELECT id, length(c_text), length(c_bytea), array_length(c_int_arr, 1),
       array_length(c_text_arr, 1), c_tsvector, c_tsquery, c_int4range, c_numrange,
       c_interval, c_numeric, c_float4, c_float8, c_money, c_pg_lsn
  FROM types_a WHERE id = 3;

-- operators on values read back from aura
SELECT id, c_jsonb -> 'a' -> 2 AS jsonb_path, c_json ->> 'c' AS json_field,
       c_inet << '192.168.0.0/16'::inet AS in_net, c_point <-> point '(0,0)' AS dist,
       c_polygon @> point '(1,1)' AS poly_contains, c_tsvector @@ c_tsquery AS ts_match,
       c_int4range @> 5 AS range_has_5, (c_pair).label, (c_pair_arr[2]).x AS pair2_x,
       c_mood > 'sad' AS mood_gt, xpath('/doc/p/@id', c_xml)::text AS xml_attr
  FROM types_a ORDER BY id;

-- update every column through aura and compare again
UPDATE types_h SET c_int4 = c_int4 / 2, c_text = c_text || '!', c_jsonb = c_jsonb || '{"u": 1}',
  c_int_arr = c_int_arr || 99, c_mood = 'ok', c_point = point '(9,9)';
UPDATE types_a SET c_int4 = c_int4 / 2, c_text = c_text || '!', c_jsonb = c_jsonb || '{"u": 1}',
  c_int_arr = c_int_arr || 99, c_mood = 'ok', c_point = point '(9,9)';
SELECT count(*) AS h_minus_a FROM (SELECT * FROM types_h_txt EXCEPT ALL SELECT * FROM types_a_txt) x;
SELECT count(*) AS a_minus_h FROM (SELECT * FROM types_a_txt EXCEPT ALL SELECT * FROM types_h_txt) x;

-- domain and enum constraints are enforced on aura tables
INSERT INTO types_a (id, c_posint) VALUES (10, 0);
INSERT INTO types_a (id, c_short) VALUES (11, NULL);
INSERT INTO types_a (id, c_mood) VALUES (12, 'angry');
SELECT count(*) FROM types_a WHERE id >= 10;

-- arrays, composite types, enums and ranges in their own table
CREATE TABLE types_nest (id int, r types_pair, ra types_pair[], m types_mood[],
  rr int4range[], mr int4multirange) USING aura;
INSERT INTO types_nest VALUES
  (1, ROW(1, 'a'), ARRAY[ROW(1, 'a'), ROW(NULL, 'b')]::types_pair[], '{sad,happy}',
   ARRAY['[1,2)'::int4range, 'empty'], '{[1,3), [5,7)}'),
  (2, NULL, '{}', '{}', '{}', '{}');
SELECT * FROM types_nest ORDER BY id;
SELECT id, (r).label, ra[2].label, m[2], rr[1], mr @> 6 AS mr_has_6 FROM types_nest ORDER BY id;

DROP TABLE types_nest;
DROP VIEW types_h_txt, types_a_txt;
DROP TABLE types_h, types_a;
DROP DOMAIN types_posint, types_short_text;
DROP TYPE types_pair, types_mood;
