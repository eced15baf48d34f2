// A one-host Ceph cluster for chapter 15: one ceph-mon, one ceph-osd on memstore, one radosgw
// speaking S3 on loopback, a user and a bucket. Own folder, free ports, stopped on destruction.
// The bootstrap and its traps: ../shared/facts/ceph-rgw.md (paxos propose interval, crc mode
// for radosgw's monitor client, tcp_nodelay, memstore's size).
#pragma once

#include "s3_client.hpp"

#include <boost/process/child.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace harness {

/// How long each phase of start() took, in seconds.
struct CephStartup {
    double mon = 0, osd = 0, rgw = 0, bucket = 0;
    double total() const { return mon + osd + rgw + bucket; }
};

/// Resident memory of the three daemons, KiB (VmRSS).
struct CephMemory {
    long mon = 0, osd = 0, rgw = 0;
    long total() const { return mon + osd + rgw; }
};

class CephCluster {
public:
    /// Starts everything in `workdir`/ceph and creates the bucket; throws with a one-line
    /// reason (and the daemon's log file) if a phase does not come up within its deadline.
    explicit CephCluster(const std::filesystem::path& workdir);
    ~CephCluster();
    CephCluster(const CephCluster&) = delete;
    CephCluster& operator=(const CephCluster&) = delete;

    /// The bucket the registries share, with the user's keys.
    const S3Bucket& bucket() const { return bucket_; }
    S3Client s3() const { return S3Client(bucket_); }
    const CephStartup& startup() const { return startup_; }
    CephMemory memory() const;
    /// The folder everything lives in: ceph.conf, mon/, osd/, log/, run/.
    const std::filesystem::path& directory() const { return directory_; }
    std::string rgw_log() const;

    /// radosgw alone: stopped (SIGTERM: it takes about 4 s to end here) and started again on the
    /// same port. The OSD keeps the data (memstore lives as long as the OSD process).
    void stop_rgw();
    void start_rgw();
    /// Runs `radosgw-admin <args>` against this cluster.
    std::string admin(const std::vector<std::string>& args) const;

private:
    void start_mon(const std::string& fsid);
    void start_osd();
    void create_user_and_bucket();
    boost::process::child launch(const std::vector<std::string>& args, const std::string& log_name) const;
    void shut_down();

    std::filesystem::path directory_;
    std::filesystem::path config_;
    unsigned short mon_v2_port_ = 0, mon_v1_port_ = 0, rgw_port_ = 0;
    S3Bucket bucket_;
    CephStartup startup_;
    boost::process::child mon_, osd_, rgw_;
};

}  // namespace harness
