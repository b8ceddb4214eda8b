// dirproxyctl's exit codes: a script tells "the daemon said no" from "I
// called it wrong" from "nobody answered" without parsing messages.
#pragma once

namespace dirproxy::ctl {

enum class ExitCode : int {
  success = 0,
  refused = 1,      // the daemon answered with an error ("ok": false)
  usage = 2,        // bad command line or unusable input (e.g. passwords differ)
  unreachable = 3,  // cannot connect, or the connection broke before the answer
};

constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace dirproxy::ctl
