"""Identities labelled at runtime by the host (host_channel.labels): `dpuguard-host events NAME
--labels FILE` sends IdentityLabel messages over the shm rings of every worker; curl clients on
different loopback addresses see the policy follow the labels as they are added, changed and
withdrawn, refused outside the delegated networks, kept while the host is away and replaced
when it comes back."""
import os
import signal
import unittest

from harness import ProxyTestCase, config, curl, wait_until

NOTEBOOK = "spiffe://cluster/ns/research/sa/notebook"
PIPELINE = "spiffe://cluster/ns/train/sa/pipeline"
WORKERS = 2


def fetch(dp, source):
    code, out, err = curl("--interface", source, "-o", "/dev/null", "-w", "%{http_code}", dp.url("/path/chat/x"))
    assert code == 0, err
    return int(out)


class HostLabelsTest(ProxyTestCase):
    def start_dpuguard(self):
        up = self.p.nginx()
        extra = f"""identities:
  - cidr: 127.0.0.3/32
    identity: {PIPELINE}
host_channel:
  socket_dir: {{dir}}/sock
  labels:
    from: labeler
    within: [127.0.0.0/28]
    max_labels: 8
policy:
  mode: rules
  default: deny
  rules:
    - id: notebook-chat
      identities: ["{NOTEBOOK}"]
      action: allow
"""
        return self.p.dpuguard(config([up], extra_top=extra, workers=WORKERS))

    def write_labels(self, text):
        path = self.p.path("labels.txt")
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
        return path

    def start_labeler(self, text):
        return self.p.dpuguard_host("events", "labeler", "--labels", self.write_labels(text))

    def labels_per_worker(self, dp):
        m = dp.metrics()
        return [m.get(f'dpuguard_host_labels{{worker="{i}"}}') for i in range(WORKERS)]

    def test_labels_follow_the_host_and_stay_inside_within(self):
        dp = self.start_dpuguard()
        self.assertEqual(fetch(dp, "127.0.0.2"), 403)  # no label yet: unknown, default deny
        self.assertEqual(self.labels_per_worker(dp), [0, 0])

        labeler = self.start_labeler(f"# labels from the orchestrator\n127.0.0.2/32 {NOTEBOOK}\n"
                                     f"127.0.0.64/26 spiffe://cluster/ns/evil/sa/everyone\n")
        # Every worker keeps its own channel to the labeler and its own copy of the labels.
        wait_until("both workers labelled", lambda: self.labels_per_worker(dp) == [1, 1])
        self.assertEqual(dp.metric("dpuguard_host_labels_refused_total"), WORKERS)  # 127.0.0.64/26 is outside
        for _ in range(6):  # new connections land on either worker
            self.assertEqual(fetch(dp, "127.0.0.2"), 200)
        self.assertEqual(fetch(dp, "127.0.0.3"), 403)  # the config's label still holds
        self.assertIn("identity label 'spiffe://cluster/ns/evil/sa/everyone' refused (outside", dp.log())

        # Relabel: SIGHUP re-reads the file and sends the difference to every worker.
        self.write_labels(f"127.0.0.2/32 {PIPELINE}\n127.0.0.3/32 {NOTEBOOK}\n")
        labeler.send_signal(signal.SIGHUP)
        applied = WORKERS + 3 * WORKERS  # the first label, then a withdrawal and two labels
        wait_until("the relabel", lambda: dp.metric("dpuguard_host_labels_applied_total") == applied)
        self.assertEqual(fetch(dp, "127.0.0.2"), 403)
        self.assertEqual(fetch(dp, "127.0.0.3"), 200)  # the host's label wins a tie with the config's

        # Withdraw everything: back to the config's labels and unknown.
        self.write_labels("")
        labeler.send_signal(signal.SIGHUP)
        wait_until("the withdrawal", lambda: self.labels_per_worker(dp) == [0, 0])
        self.assertEqual(fetch(dp, "127.0.0.3"), 403)
        self.assertEqual(fetch(dp, "127.0.0.2"), 403)
        identities = [(l["identity"], l["status"]) for l in dp.wait_flow_log(1 + 6 + 1 + 2 + 2)]
        self.assertEqual(identities[0], ("unknown", 403))
        self.assertEqual(identities[1:7], [(NOTEBOOK, 200)] * 6)
        self.assertEqual(identities[7], (PIPELINE, 403))
        self.assertEqual(identities[8:10], [(PIPELINE, 403), (NOTEBOOK, 200)])
        self.assertEqual(identities[10:], [(PIPELINE, 403), ("unknown", 403)])

    def test_labels_stay_while_the_host_is_away_and_resync_when_it_returns(self):
        dp = self.start_dpuguard()
        labeler = self.start_labeler(f"127.0.0.2/32 {NOTEBOOK}\n")
        wait_until("both workers labelled", lambda: self.labels_per_worker(dp) == [1, 1])
        labeler.send_signal(signal.SIGKILL)
        labeler.wait()
        wait_until("the channels noticed", lambda: dp.metric("dpuguard_host_channel_faults_total") >= WORKERS)
        for _ in range(4):  # a dead host changes nothing: the DPU keeps enforcing what it was told
            self.assertEqual(fetch(dp, "127.0.0.2"), 200)

        # The host comes back with another set: each worker reconnects and starts from it.
        connects = dp.metric("dpuguard_host_channel_connects_total")
        self.start_labeler(f"127.0.0.4/32 {NOTEBOOK}\n")
        wait_until("the reconnect", lambda: dp.metric("dpuguard_host_channel_connects_total") >= connects + WORKERS)
        wait_until("the new set", lambda: self.labels_per_worker(dp) == [1, 1])
        for _ in range(4):
            self.assertEqual(fetch(dp, "127.0.0.2"), 403)
            self.assertEqual(fetch(dp, "127.0.0.4"), 200)


if __name__ == "__main__":
    unittest.main()
