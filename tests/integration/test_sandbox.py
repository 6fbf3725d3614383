"""The sandbox seen from outside (`sandbox:`, SECURITY.md "The sandbox"): after binding, the
running process has the configured user and group, no_new_privs, is not dumpable, and every
thread runs under a seccomp filter named after its role; it still proxies; an unknown user is
a config error with its position; a reload that changes the sandbox is refused. That a call
off a role's list kills the process is tests/sandbox/seccomp_filter_test.cc (death tests), and
that the lists cover every feature is the rest of this suite, which ctest runs with
`sandbox: enforce` (DPUGUARD_SANDBOX)."""
import os
import pwd
import grp
import subprocess
import unittest

from harness import BIN, SANDBOX, ProxyTestCase, config, curl, wait_until

# The suite's mode (sanitized builds audit: their runtimes make calls dpuguard never does).
MODE = SANDBOX or "enforce"


def status(path):
    """/proc/.../status as {field: value}."""
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def nobody():
    """(user, group, uid, gid) to drop to: nobody and its group."""
    pw = pwd.getpwnam("nobody")
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid


SANDBOXED = """sandbox:
  mode: {mode}
  user: {user}
  group: {group}
"""


class SandboxTest(ProxyTestCase):
    @unittest.skipUnless(os.geteuid() == 0, "dropping to another user needs root")
    def test_running_process_is_confined(self):
        user, group, uid, gid = nobody()
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]) + SANDBOXED.format(mode=MODE, user=user, group=group))
        rc, out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", d.url("/hello"))
        self.assertEqual((rc, out), (0, b"200"))
        pid = d.proc.pid
        st = status(f"/proc/{pid}/status")
        self.assertEqual(st["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(st["Gid"].split(), [str(gid)] * 4)
        self.assertEqual(st["Groups"].split(), [str(gid)])
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(st["CapEff"], "0000000000000000")
        # Every thread filtered, each role by its own filter on top of what it inherited.
        names = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            t = status(f"/proc/{pid}/task/{tid}/status")
            names[name] = names.get(name, 0) + 1
            self.assertEqual(t["Seccomp"], "2", name)
            self.assertGreaterEqual(int(t["Seccomp_filters"]), 1, name)
        self.assertEqual(names.get("dpuguard-worker"), 1, names)
        self.assertEqual(names.get("dpuguard-admin"), 1, names)
        self.assertEqual(names.get("dpuguard-teleme"), 2, names)  # flow-log writer, health checker
        with open(f"/proc/{pid}/limits") as f:
            core = next(l for l in f if l.startswith("Max core file size"))
        self.assertEqual(core.split()[4:6], ["0", "0"])
        log = d.log()
        self.assertIn(f"dpuguard: sandbox {MODE}: uid {uid} gid {gid}", log)
        self.assertRegex(log, r"system calls allowed per thread role: control \d+, worker \d+, admin \d+, telemetry \d+")
        # /metrics and /attestation-free admin pages still work from the confined admin thread.
        rc, out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{d.admin}/metrics")
        self.assertEqual((rc, out), (0, b"200"))

    def test_unknown_user_or_group_is_a_config_error(self):
        path = self.p.path("bad.yaml")
        with open(path, "w") as f:
            f.write(config([9]).replace("{port}", "1").replace("{admin}", "2")
                    + "sandbox:\n  mode: enforce\n  user: dpuguard-no-such-user\n  group: no-such-group-x\n"
                    + "  seccomp: strict\n")
        r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        text = r.stdout
        self.assertRegex(text, rf"{path}:\d+:9: sandbox: no user 'dpuguard-no-such-user' on this machine")
        self.assertRegex(text, rf"{path}:\d+:10: sandbox: no group 'no-such-group-x' on this machine")
        self.assertRegex(text, rf"{path}:\d+:3: unknown key 'seccomp' in sandbox")
        with open(path, "w") as f:
            f.write(config([9]).replace("{port}", "1").replace("{admin}", "2") + "sandbox:\n  mode: strict\n")
        r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stdout, rf"{path}:\d+:9: 'mode' must be off, audit or enforce, got 'strict'")

    def test_reload_that_changes_the_sandbox_is_refused(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]) + f"sandbox:\n  mode: {MODE}\n")
        with open(d.config_path) as f:
            text = f.read()
        d.rewrite_config(text.replace(f"mode: {MODE}", "mode: off"))
        d.reload()
        wait_until("the refused reload",
                   lambda: d.metrics().get('dpuguard_config_reloads_total{result="rejected"}', 0) == 1)
        self.assertIn("'sandbox' changed (needs a restart)", d.log())
        rc, out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", d.url("/hello"))
        self.assertEqual((rc, out), (0, b"200"))


if __name__ == "__main__":
    unittest.main()
