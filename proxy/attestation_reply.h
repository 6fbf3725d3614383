// attestationReply: the admin's GET /attestation?nonce=HEX. The running snapshot's
// measurement log in a quote (attest/quote.h) over the caller's nonce, this boot's id and the
// time, signed with the device key: 200 with the quote's JSON; 400 for a missing or malformed
// nonce or another parameter; 404 when no attestation.key_file is configured. `context`:
// attest::kContextAdmin for the admin port, kContextHostChannel for a host's challenge.
#pragma once

#include <string_view>

#include "attest/device_key.h"
#include "attest/measurement_log.h"
#include "attest/quote.h"
#include "proxy/admin/admin_server.h"

namespace dpuguard::proxy {

AdminReply attestationReply(std::string_view query, const attest::MeasurementLog& log,
                            const attest::DeviceKey* key,
                            std::string_view context = attest::kContextAdmin);

}  // namespace dpuguard::proxy
