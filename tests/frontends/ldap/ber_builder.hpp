// Hand-built BER for the tests: PDUs that libldap would never send (zero
// message ids, unknown operations, broken substrings), written with
// ber_printf into one growing element.
#pragma once

#include <lber.h>

#include <memory>
#include <string>

namespace dirproxy::ldap::test_support {

class BerBuilder {
 public:
  BerBuilder() : ber_(ber_alloc_t(LBER_USE_DER)) {}

  template <typename... Args>
  BerBuilder& print(const char* format, Args... args) {
    ber_printf(ber_.get(), format, args...);
    return *this;
  }

  std::string bytes() const {
    berval flat{};
    ber_flatten2(ber_.get(), &flat, /*alloc=*/0);
    return std::string(flat.bv_val, flat.bv_len);
  }

 private:
  struct Free {
    void operator()(BerElement* ber) const { ber_free(ber, 1); }
  };
  std::unique_ptr<BerElement, Free> ber_;
};

// Tags and ber_printf's integers, spelled as its varargs want them.
inline ber_tag_t tag(unsigned long value) { return static_cast<ber_tag_t>(value); }
inline ber_int_t integer(int value) { return static_cast<ber_int_t>(value); }
inline ber_len_t length(std::size_t value) { return static_cast<ber_len_t>(value); }

}  // namespace dirproxy::ldap::test_support
