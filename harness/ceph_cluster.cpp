// The one-host Ceph cluster: ceph.conf written here, the daemons as child processes in the
// foreground (-f), the setup commands (monmaptool, ceph, radosgw-admin) run to completion.
#include "ceph_cluster.hpp"

#include "child_process.hpp"
#include "poll_until.hpp"
#include "program_runner.hpp"
#include "registry_instance.hpp"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace harness {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A fresh random UUID from the kernel (the cluster's fsid, the OSD's uuid).
std::string random_uuid() {
    std::ifstream source("/proc/sys/kernel/random/uuid");
    std::string uuid;
    if (!std::getline(source, uuid) || uuid.size() != 36) throw std::runtime_error("cannot read /proc/sys/kernel/random/uuid");
    return uuid;
}

// Runs a set-up command; throws with its output if it fails.
std::string must_run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const RunResult result = run_program(argv, {.timeout = timeout});
    if (result.exit_code != 0) {
        std::string command;
        for (std::size_t i = 0; i < argv.size() && i < 6; ++i) command += (i ? " " : "") + argv[i];
        throw std::runtime_error(command + " failed (exit " + std::to_string(result.exit_code) +
                                 "): " + result.err.substr(0, 400));
    }
    return result.out;
}

long resident_kib(const bp::child& process) {
    if (!process.valid()) return 0;
    std::ifstream status("/proc/" + std::to_string(process.id()) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0;
}

}  // namespace

CephCluster::CephCluster(const fs::path& workdir) : directory_(workdir / "ceph"), config_(directory_ / "ceph.conf") {
    for (const char* program : {"ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph-authtool"})
        if (bp::search_path(program).empty())
            throw std::runtime_error(std::string(program) + " is not installed (Debian packages ceph-mon ceph-osd radosgw)");
    for (const char* folder : {"mon", "osd", "log", "run"}) fs::create_directories(directory_ / folder);
    mon_v2_port_ = free_loopback_port();
    mon_v1_port_ = free_loopback_port();
    rgw_port_ = free_loopback_port();
    bucket_ = {.endpoint = "http://127.0.0.1:" + std::to_string(rgw_port_),
               .region = "us-east-1",
               .name = "registry",
               .access_key = "WORKBOOKREGISTRYKEY0",
               .secret_key = "registry-workbook-secret-key-for-rgw-00"};
    const std::string d = directory_.string();
    const std::string fsid = random_uuid();
    // auth none: a loopback cluster for one test. Every default that assumes three hosts and
    // big disks is turned down; see the facts file for what each line saved.
    std::ofstream(config_) << "[global]\n"
                           << "fsid = " << fsid << "\n"
                           << "mon host = [v2:127.0.0.1:" << mon_v2_port_ << ",v1:127.0.0.1:" << mon_v1_port_ << "]\n"
                           << "public addr = 127.0.0.1\ncluster addr = 127.0.0.1\n"
                           << "auth cluster required = none\nauth service required = none\nauth client required = none\n"
                           << "run dir = " << d << "/run\n"
                           << "pid file = " << d << "/run/$name.pid\n"
                           << "log file = " << d << "/log/$name.log\n"
                           // the monitor's cluster and audit logs, else /var/log/ceph
                           << "mon cluster log file = " << d << "/log/$cluster.$channel.log\n"
                           << "admin socket = " << d << "/run/$name.asok\n"
                           << "osd pool default size = 1\nosd pool default min size = 1\n"
                           << "osd pool default pg num = 8\nosd pool default pgp num = 8\n"
                           << "osd crush chooseleaf type = 0\nmon allow pool size one = true\n"
                           << "mon warn on pool no redundancy = false\nmon max pg per osd = 1000\n"
                           << "mon data avail warn = 2\nmon data avail crit = 1\n"
                           // each osdmap change otherwise waits about a second: 15 s -> 2 s
                           << "paxos propose interval = 0.1\n"
                           // one lifecycle 'day' is 5 s, so chapter 15 can show a rule at work
                           << "rgw lc debug interval = 5\n"
                           << "[mon]\nmon data = " << d << "/mon/$cluster-$id\n"
                           << "[osd]\nosd data = " << d << "/osd/$cluster-$id\n"
                           << "osd objectstore = memstore\nmemstore device bytes = 8589934592\n"
                           << "[client.rgw.gw]\n"
                           // without tcp_nodelay each small S3 answer waits ~40 ms for Nagle
                           << "rgw frontends = beast endpoint=127.0.0.1:" << rgw_port_ << " tcp_nodelay=1\n"
                           // with auth none, radosgw otherwise loops on get_initial_auth_request -13
                           << "ms mon client mode = crc\n"
                           << "rgw gc obj min wait = 60\nrgw gc processor period = 60\n";
    try {
        auto phase = Clock::now();
        start_mon(fsid);
        startup_.mon = seconds_since(phase);
        phase = Clock::now();
        start_osd();
        startup_.osd = seconds_since(phase);
        phase = Clock::now();
        start_rgw();
        startup_.rgw = seconds_since(phase);
        phase = Clock::now();
        create_user_and_bucket();
        startup_.bucket = seconds_since(phase);
    } catch (...) {
        shut_down();
        throw;
    }
}

CephCluster::~CephCluster() { shut_down(); }

bp::child CephCluster::launch(const std::vector<std::string>& args, const std::string& log_name) const {
    std::FILE* log = std::fopen((directory_ / "log" / (log_name + ".out")).c_str(), "a");
    if (!log) throw std::runtime_error("cannot open the log of " + log_name + " in " + directory_.string());
    bp::child child(bp::search_path(args.front()).string(), std::vector<std::string>(args.begin() + 1, args.end()),
                    bp::std_in.close(), bp::std_out > log, bp::std_err > log, bp::extend::on_exec_setup = DieWithParent{});
    std::fclose(log);
    return child;
}

void CephCluster::start_mon(const std::string& fsid) {
    const std::string c = config_.string(), d = directory_.string();
    const std::string addresses = "[v2:127.0.0.1:" + std::to_string(mon_v2_port_) + ",v1:127.0.0.1:" + std::to_string(mon_v1_port_) + "]";
    must_run({"monmaptool", "-c", c, "--create", "--fsid", fsid, "--addv", "a", addresses, d + "/monmap"});
    must_run({"ceph-authtool", "--create-keyring", d + "/mon.keyring", "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"});
    must_run({"ceph-mon", "-c", c, "--mkfs", "-i", "a", "--monmap", d + "/monmap", "--keyring", d + "/mon.keyring"});
    mon_ = launch({"ceph-mon", "-c", c, "-f", "-i", "a"}, "mon");
}

void CephCluster::start_osd() {
    const std::string c = config_.string();
    const std::string uuid = random_uuid();
    // `ceph` waits for the monitor itself (up to the connect timeout): no separate probe.
    std::string id = must_run({"ceph", "-c", c, "--connect-timeout", "20", "osd", "new", uuid});
    id = id.substr(0, id.find('\n'));
    fs::create_directories(directory_ / "osd" / ("ceph-" + id));
    must_run({"ceph-osd", "-c", c, "-i", id, "--mkfs", "--osd-uuid", uuid});
    osd_ = launch({"ceph-osd", "-c", c, "-f", "-i", id}, "osd");
    // The OSD logs this once the monitor has marked it up: the moment pools can be made.
    // Reading the log is quicker than asking `ceph osd stat` (a Python start each time).
    const fs::path log = directory_ / "log" / ("osd." + id + ".log");
    if (!poll_until([&] { return read_whole_file(log).find("state: booting -> active") != std::string::npos || !osd_.running(); },
                    std::chrono::seconds(30)) ||
        !osd_.running())
        throw std::runtime_error("ceph-osd did not become active; its log: " + log.string());
}

void CephCluster::start_rgw() {
    if (rgw_.valid() && rgw_.running()) return;
    rgw_ = launch({"radosgw", "-c", config_.string(), "-f", "-n", "client.rgw.gw"}, "rgw");
    // Any HTTP answer will do: radosgw listens only once its pools exist.
    if (!wait_until_answering(bucket_.endpoint, 30))
        throw std::runtime_error("radosgw did not answer on " + bucket_.endpoint + "; its log: " +
                                 (directory_ / "log" / "client.rgw.gw.log").string());
}

void CephCluster::stop_rgw() { end_child(rgw_, SIGTERM); }

void CephCluster::create_user_and_bucket() {
    admin({"user", "create", "--uid=registry", "--display-name=registry", "--access-key=" + bucket_.access_key,
           "--secret-key=" + bucket_.secret_key});
    // The s3 driver never creates its bucket.
    s3().create_bucket();
}

std::string CephCluster::admin(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"radosgw-admin", "-c", config_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return must_run(argv);
}

CephMemory CephCluster::memory() const { return {resident_kib(mon_), resident_kib(osd_), resident_kib(rgw_)}; }

std::string CephCluster::rgw_log() const { return read_whole_file(directory_ / "log" / "client.rgw.gw.log"); }

// Gateway first, monitor last: each one's clients stop before what they talk to. Gateway
// and OSD are killed, since the folder goes right after: radosgw takes about 4 s to end on
// SIGTERM here, and on SIGTERM memstore first saves every object to the OSD's folder.
void CephCluster::shut_down() {
    end_child(rgw_, SIGKILL);
    end_child(osd_, SIGKILL);
    end_child(mon_, SIGTERM);
}

}  // namespace harness
