// measureSnapshot: the log's order and what each entry digests (the bytes the loader parsed;
// the public half of a key, never the key).
#include "proxy/loader/snapshot_measurer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "attest/digest.h"
#include "proxy/loader/config_loader.h"

namespace dpuguard::proxy {
namespace {

class SnapshotMeasurerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/measurer_testXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    write("a.rules",
          "rules:\n  - {id: a1, where: [path], pattern: 'etc/passwd', action: block, severity: "
          "high}\n");
    write("b.rules",
          "rules:\n  - {id: b1, where: [path], pattern: 'wp-admin', action: block, severity: "
          "high}\n");
    std::string why;
    ASSERT_TRUE(attest::DeviceKey::create(dir_ + "/dev.key", dir_ + "/dev.key.pub", &why)) << why;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  attest::MeasurementLog measure(const std::string& yaml) {
    write("d.yaml", yaml);
    const LoadResult r = ConfigLoader::loadFile(dir_ + "/d.yaml");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.toString();
    attest::MeasurementLog log;
    std::string why;
    if (r.ok()) EXPECT_TRUE(measureSnapshot(*r.config, &log, &why)) << why;
    return log;
  }
  std::string config(const std::string& extra = "") {
    return "listeners: [{name: public, address: \"127.0.0.1:8080\"}]\n"
           "clusters: [{name: llm, endpoints: [\"127.0.0.1:8000\"]}]\n"
           "routes: [{name: all, cluster: llm}]\n"
           "signatures: {files: [a.rules, b.rules]}\n"
           "attestation: {key_file: dev.key}\n" +
           extra;
  }
  std::string dir_;
};

TEST_F(SnapshotMeasurerTest, FixedOrderAndTheBytesTheLoaderRead) {
  const attest::MeasurementLog log = measure(config());
  const auto& e = log.entries();
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].component, "executable");
  std::string exe, why;
  ASSERT_TRUE(attest::sha256File("/proc/self/exe", &exe, &why));
  EXPECT_EQ(e[0].sha256, exe);
  EXPECT_EQ(e[1].component, "config");
  EXPECT_EQ(e[1].path, dir_ + "/d.yaml");
  EXPECT_EQ(e[2].component, "rules");
  EXPECT_EQ(e[2].path, dir_ + "/a.rules");
  EXPECT_EQ(e[2].sha256, attest::sha256Hex("rules:\n  - {id: a1, where: [path], pattern: "
                                           "'etc/passwd', action: block, severity: high}\n"));
  EXPECT_EQ(e[3].path, dir_ + "/b.rules");
  EXPECT_EQ(e[4].component, "attestation_public_key");
  std::ifstream pub(dir_ + "/dev.key.pub");
  const std::string pem((std::istreambuf_iterator<char>(pub)), std::istreambuf_iterator<char>());
  EXPECT_EQ(e[4].sha256, attest::sha256Hex(pem));
}

TEST_F(SnapshotMeasurerTest, CommentsDoNotMoveTheCompositeAndAValueDoes) {
  const std::string base = measure(config()).composite();
  EXPECT_EQ(measure("# a comment\n" + config()).composite(), base);
  EXPECT_NE(measure(config("workers: 3\n")).composite(), base);
  write("a.rules",
        "rules:\n  - {id: a1, where: [path], pattern: 'etc/shadow', action: block, severity: "
        "high}\n");
  EXPECT_NE(measure(config()).composite(), base);
}

TEST_F(SnapshotMeasurerTest, AGroupReadableDeviceKeyIsAConfigError) {
  ASSERT_EQ(chmod((dir_ + "/dev.key").c_str(), 0640), 0);
  write("d.yaml", config());
  const LoadResult r = ConfigLoader::loadFile(dir_ + "/d.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errors[0].line, 5);
  EXPECT_NE(r.errors[0].message.find("mode 0640"), std::string::npos) << r.errors[0].message;
}

}  // namespace
}  // namespace dpuguard::proxy
