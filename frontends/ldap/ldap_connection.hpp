// One client connection of the LDAP front end (docs/ldap-server.md). Its
// coroutines all run on the connection's io thread (IoThreads), so they need
// no locks: the reader frames PDUs (PduReader) and starts each request at
// once, so requests on one connection run concurrently and their answers
// interleave as RFC 4511 allows; the writer sends what the operations
// queue; the idle watch closes a connection silent for
// ldap_server.limits.idle_timeout.
//
// The operations are the connection's methods, one file a concept:
// ldap_bind.cpp (Bind, and who the connection is), ldap_search.cpp (Search
// and Compare), ldap_extended.cpp (StartTLS, Who am I, Password Modify) and
// ldap_writes.cpp (Add, Modify, Delete, ModifyDN). Each translates to the
// service's typed requests; none holds a rule of the chain's.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/ssl.hpp>

#include "core/asio.hpp"
#include "frontends/ldap/ldap_codec.hpp"
#include "frontends/ldap/ldap_message.hpp"
#include "frontends/ldap/ldap_tree.hpp"
#include "config/config.hpp"
#include "service/service.hpp"

namespace dirproxy::ldap {

using tcp = asio::ip::tcp;
using TlsContextPtr = std::shared_ptr<asio::ssl::context>;

// The front end's settings in force; a reload replaces them, and each
// operation reads them once when it starts.
struct FrontEndState {
  config::LdapServer settings;
  TreeSettings tree;
  TlsContextPtr tls;  // null: no TLS configured
};
using FrontEndStatePtr = std::shared_ptr<const FrontEndState>;

// What every connection of one listener shares with it.
struct ConnectionShared {
  Service& service;
  std::function<RuntimePtr()> runtime;
  std::function<FrontEndStatePtr()> state;
};

// Who a connection is bound as.
struct BoundIdentity {
  enum class Kind : std::uint8_t { anonymous, user, application };
  Kind kind = Kind::anonymous;
  std::string name;  // username or application name
  std::string dn;    // as Who am I says it
  bool may_write = false;
};

// The byte stream under the PDUs: TCP, and TLS over it after StartTLS or on
// an ldaps:// listener.
class Transport final {
 public:
  explicit Transport(tcp::socket socket) : socket_(std::move(socket)) {}

  // Waits for bytes and reads what has arrived. The view is valid until
  // the caller next suspends: a connection waiting for its client holds no
  // read buffer (over TCP the bytes land in one buffer of the thread;
  // TLS keeps one of its own).
  awaitable<std::string_view> read_some(boost::system::error_code& ec);
  awaitable<void> write(std::string_view bytes, boost::system::error_code& ec);
  // The server side of a TLS handshake on the socket.
  awaitable<void> start_tls(TlsContextPtr context, boost::system::error_code& ec);
  bool secure() const { return tls_ != nullptr; }
  void close();
  tcp::socket& socket() { return socket_; }

 private:
  tcp::socket socket_;
  TlsContextPtr context_;  // outlives tls_
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<char[]> tls_buffer_;  // read_some's, over TLS
};

class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, bool ldaps, std::uint64_t id, std::shared_ptr<const ConnectionShared> shared);

  // Runs the connection until it closes; `on_closed` is called once then.
  void start(std::function<void()> on_closed);
  // Tells the client the server is going away (a Notice of Disconnection,
  // unavailable), then closes. Safe from any thread.
  void stop();

  std::uint64_t id() const { return id_; }

 private:
  // An operation in progress: Abandon, a Bind and the connection's end mark
  // it abandoned, and from then on it sends nothing.
  struct Running {
    bool abandoned = false;
  };
  // A paged search's place between pages (RFC 2696), kept by cookie.
  struct PagedSearch;

  awaitable<void> run();
  awaitable<void> read_requests();
  awaitable<void> write_responses();
  awaitable<void> watch_idle();
  void dispatch(Request request);
  awaitable<void> perform(Request request, std::shared_ptr<Running> running);
  // Queues one message for the writer; waits while more than a few hundred
  // KiB are queued (a client that does not read holds back its own
  // searches, nothing else). False when the operation should stop: it was
  // abandoned or the connection is closing.
  awaitable<bool> send(const Running& running, std::string message);
  // Queues a last message and closes once it is written.
  void disconnect(ResultCode code, std::string_view diagnostic);
  void close();
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  // The service's Caller for this connection as it is bound now.
  Caller caller() const;
  // The Caller of a write: an admin when bound as an application with
  // ldap.may_write (ldap_writes.cpp).
  Caller writer() const;
  // Why the bound identity may not write now, or nullopt when it may.
  std::optional<LdapResult> refuse_write(const FrontEndState& state, bool carries_password) const;
  // noSuchObject when the user named `username` is not in the view of the
  // application this connection is bound as (APPLICATIONS.md: a user it
  // does not admit does not exist for it, so it cannot change them
  // either); nullopt otherwise.
  awaitable<std::optional<LdapResult>> refuse_hidden_user(const std::string& username) const;
  FrontEndStatePtr state() const { return shared_->state(); }

  // ldap_bind.cpp
  awaitable<void> bind(int message_id, const BindRequest& request, std::shared_ptr<Running> running);
  // `binding_for`: the application the connection was bound as when the
  // Bind began (empty: none).
  awaitable<LdapResult> bind_user(const TreeSettings& tree, const std::string& name, const std::string& password,
                                  const std::string& binding_for, std::optional<BoundIdentity>& bound);
  bool plaintext_bind_allowed(const FrontEndState& state) const;
  // ldap_search.cpp
  // The Caller of a read of `target`: under an application's base
  // (applications[].ldap.base_dn), made for that application, so the
  // service shows only the users it admits. An error when the bound
  // identity may not read that tree: an application that admits only some
  // users reads no other application's tree (it would see users it does
  // not admit).
  Result<Caller> reader_of(const DnTarget& target) const;
  awaitable<void> search(const Request& request, const SearchRequest& search, std::shared_ptr<Running> running);
  awaitable<void> compare(int message_id, const CompareRequest& request, std::shared_ptr<Running> running);
  // ldap_extended.cpp
  awaitable<void> extended(int message_id, const ExtendedRequest& request, std::shared_ptr<Running> running);
  awaitable<void> start_tls(int message_id);
  awaitable<LdapResult> password_modify(const ExtendedRequest& request);
  // ldap_writes.cpp
  awaitable<LdapResult> add(const AddRequest& request);
  awaitable<LdapResult> modify(const ModifyRequest& request);
  awaitable<LdapResult> remove(const DeleteRequest& request);

  Transport transport_;
  const bool ldaps_;
  const std::uint64_t id_;
  std::shared_ptr<const ConnectionShared> shared_;
  std::string peer_address_;
  bool peer_loopback_ = false;
  PduReader reader_;
  BoundIdentity bound_;
  // Operations in progress by message id.
  std::unordered_map<int, std::shared_ptr<Running>> running_;
  std::map<std::string, std::shared_ptr<PagedSearch>> paged_;
  std::deque<std::string> outgoing_;
  std::size_t outgoing_bytes_ = 0;
  bool close_after_writing_ = false;
  bool closed_ = false;
  bool tls_starting_ = false;
  asio::steady_timer writer_wake_;
  asio::steady_timer drained_;
  asio::steady_timer reader_wake_;
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  std::function<void()> on_closed_;
  // The last search base classified, under the state it was classified
  // for: a client searches the same base again and again, and classify_dn
  // parses it with libldap each time (a quarter of a cached search by uid).
  FrontEndStatePtr classified_state_;
  std::string classified_base_;
  DnTarget classified_;
};

}  // namespace dirproxy::ldap
