// podman's view of an image, next to the rootfs our library unpacks: podman pulls the image into
// storage of the test's own (vfs: every layer applied into a plain folder, whiteouts and
// opaque folders included) and `podman image mount` names the folder a container would start
// from. No container runs, so this works where `podman run` cannot (chapter 16: runc needs
// CAP_SYS_RESOURCE to set podman's rlimits).
#pragma once

#include "program_runner.hpp"
#include "rootfs_comparison.hpp"
#include "workspace.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace test_support {

/// Pulls `image` (host:port/repository:tag, plain HTTP) with podman into `<work>/root`, mounts
/// it, and checks its tree equals `our_tree` (describe_tree of what unpack_image made).
inline void check_same_rootfs_as_podman(const std::string& image, const std::filesystem::path& work,
                                        const std::map<std::string, std::string>& our_tree) {
    // podman refuses a runroot path over 50 characters, and the caller's folder is longer: the
    // runroot (locks, no data) is a workspace of its own with a short name.
    const harness::Workspace runroot("podman");
    const std::vector<std::string> podman = {"podman", "--storage-driver", "vfs",
                                             "--root", (work / "root").string(),
                                             "--runroot", runroot.path().string()};
    const auto run_podman = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = podman;
        argv.insert(argv.end(), args.begin(), args.end());
        const harness::RunResult result = harness::run_program(argv);
        INFO("podman " << args.at(0) << ": " << result.out << result.err);
        REQUIRE(result.exit_code == 0);
        return result.out.substr(0, result.out.find_last_not_of('\n') + 1);
    };
    const std::string id = run_podman({"pull", "--quiet", "--tls-verify=false", "docker://" + image});
    const std::filesystem::path rootfs = run_podman({"image", "mount", id});
    const auto podman_tree = describe_tree(rootfs);
    run_podman({"image", "unmount", id});
    INFO("ours:\n" << show(our_tree) << "podman's:\n" << show(podman_tree));
    CHECK(podman_tree == our_tree);
    CHECK_FALSE(podman_tree.empty());
}

}  // namespace test_support
