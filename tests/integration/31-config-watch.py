#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 31-config-watch: the config directory is watched (inotify): adding,
# editing (in place and by rename), renaming away and deleting files take
# effect without SIGHUP; a broken file keeps the last good snapshot serving
# and is reported (config.errors, config.last_error); files the loader does
# not read (editor backups) change nothing; a Kubernetes-style ConfigMap
# volume (a ..data symlink swapped atomically) is followed; a config
# directory created after start is picked up. Deadlines are generous: how
# fast it converges is for the benchmark.

import json
import os
import time

import mg


def se(name, host, up):
    return mg.service_entry(name, [host], endpoints=[up.endpoint])


def status(m, host):
    return mg.get(m.port, "/echo", host).status


def test():
    a, b = mg.Upstream("watch-a"), mg.Upstream("watch-b")
    m = mg.Mesh(name="watch")
    m.start()
    d = m.dir / "mesh.d"
    mg.check(status(m, "a.example") == 502, "nothing registered: 502 block_all")

    m.write_yaml("a.yaml", [se("a", "a.example", a)])     # atomic: temp file + rename
    mg.check(mg.wait_for(lambda: status(m, "a.example") == 200, 10), "a new file is applied "
             "without SIGHUP")
    (d / "b.yaml").write_text(mg.yaml_docs(se("b", "b.example", b)))   # written in place
    mg.check(mg.wait_for(lambda: status(m, "b.example") == 200, 10),
             "a file written in place is applied")

    v = m.config_version()
    (d / "a.yaml~").write_text("this is not yaml: [")
    (d / ".a.yaml.swp").write_text("garbage")
    time.sleep(1)
    mg.check(m.config_version() == v and m.stat("config.errors") == 0,
             "editor backups and hidden files change nothing", (v, m.config_version()))

    # only endpoints change: the file alone is parsed again and the
    # snapshot patched, not rebuilt; the new endpoint serves
    p0, f0 = m.stat("config.endpoint_patches"), m.stat("config.full_builds")
    m.write_yaml("b.yaml", [se("b", "b.example", a)])
    def served_by(host):
        r = mg.get(m.port, "/echo", host)
        return json.loads(r.body).get("name") if r.status == 200 else r.status
    mg.check(mg.wait_for(lambda: served_by("b.example") == "watch-a", 10),
             "an endpoint moved in a file serves", served_by("b.example"))
    mg.check(m.stat("config.endpoint_patches") == p0 + 1 and m.stat("config.full_builds") == f0,
             "... applied as an endpoint patch", (p0, f0, m.stat("config.endpoint_patches"),
                                                  m.stat("config.full_builds")))

    os.rename(d / "b.yaml", d / "b.yaml.disabled")
    mg.check(mg.wait_for(lambda: status(m, "b.example") == 502, 10),
             "a file renamed away is unloaded")

    errs = int(m.stat("config.errors"))
    (d / "bad.yaml").write_text("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
                                "metadata: {name: bad}\nspec: {hosts: []}\n")
    mg.check(mg.wait_for(lambda: int(m.stat("config.errors")) > errs, 10),
             "a broken file is counted", m.stat("config.errors"))
    mg.check("bad.yaml" in (m.stat("config.last_error") or ""),
             "... and its error shown", m.stat("config.last_error"))
    mg.check(status(m, "a.example") == 200, "the last good snapshot keeps serving")
    st, body = m.admin("/syncz")
    src = json.loads(body)["sources"][0]
    mg.check(src["status"] == "ERROR" and "bad.yaml" in (src["last_error"] or ""),
             "/syncz: the file source is ERROR with the reason", src)
    (d / "bad.yaml").unlink()
    m.write_yaml("a.yaml", [se("a", "a2.example", a)])
    mg.check(mg.wait_for(lambda: status(m, "a2.example") == 200 and
                         status(m, "a.example") == 502, 10),
             "fixed and edited: applied again")
    st, body = m.admin("/syncz")
    src = json.loads(body)["sources"][0]
    mg.check(src["status"] == "SYNCED" and src["applied_generation"] == src["generation"],
             "/syncz: SYNCED again, every worker on the new generation", src)
    (d / "a.yaml").unlink()
    mg.check(mg.wait_for(lambda: status(m, "a2.example") == 502, 10), "a deleted file is unloaded")
    mg.check(m.stop() == 0, "meshgate exits 0")

    # a ConfigMap volume: files are links into ..data, which is swapped by rename
    m2 = mg.Mesh(name="watch-cm")
    cm = m2.dir / "mesh.d"
    cm.rmdir()                  # created after start
    m2.start()
    mg.check(status(m2, "a.example") == 502, "no config directory: an empty mesh")
    cm.mkdir()

    def publish(gen, docs):
        ts = cm / f"..{gen}"
        ts.mkdir()
        (ts / "mesh.yaml").write_text(mg.yaml_docs(*docs))
        os.symlink(ts.name, cm / "..data_tmp")
        os.rename(cm / "..data_tmp", cm / "..data")
        if not (cm / "mesh.yaml").is_symlink():
            os.symlink("..data/mesh.yaml", cm / "mesh.yaml")

    publish("2026_1", [se("a", "a.example", a)])
    mg.check(mg.wait_for(lambda: status(m2, "a.example") == 200, 10),
             "a directory created after start is watched; the ConfigMap's files load")
    publish("2026_2", [se("b", "b.example", b)])
    mg.check(mg.wait_for(lambda: status(m2, "b.example") == 200 and
                         status(m2, "a.example") == 502, 10),
             "a ConfigMap update (..data swapped) is followed")
    mg.check(m2.stop() == 0, "meshgate exits 0")


if __name__ == "__main__":
    mg.run(test)
