-- The JRC's indexes on the signature and histogram tables. `lake push` creates them after its
-- first COPY into empty tables (building an index once is faster than keeping it while loading).
CREATE INDEX IF NOT EXISTS @PREFIX@_s2_signatures_pidx ON @SCHEMA@.@PREFIX@_s2_signatures USING btree (pid);
CREATE INDEX IF NOT EXISTS @PREFIX@_s2_signatures_obsidx ON @SCHEMA@.@PREFIX@_s2_signatures USING btree (obsid);
CREATE INDEX IF NOT EXISTS @PREFIX@_s2_signatures_bidx ON @SCHEMA@.@PREFIX@_s2_signatures USING btree (band);
CREATE INDEX IF NOT EXISTS @PREFIX@_bs_signatures_pidx ON @SCHEMA@.@PREFIX@_bs_signatures USING btree (pid);
CREATE INDEX IF NOT EXISTS @PREFIX@_bs_signatures_obsidx ON @SCHEMA@.@PREFIX@_bs_signatures USING btree (obsid);
CREATE INDEX IF NOT EXISTS @PREFIX@_c6_signatures_pidx ON @SCHEMA@.@PREFIX@_c6_signatures USING btree (pid);
CREATE INDEX IF NOT EXISTS @PREFIX@_c6_signatures_obsidx ON @SCHEMA@.@PREFIX@_c6_signatures USING btree (obsid);
CREATE INDEX IF NOT EXISTS @PREFIX@_s2_hists_pidx ON @SCHEMA@.@PREFIX@_s2_hists USING btree (pid);
