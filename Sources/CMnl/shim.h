#ifndef SMEG_CMNL_SHIM_H
#define SMEG_CMNL_SHIM_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <linux/fib_rules.h>
#include <net/if.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Swift does not import function-like macros; these wrap the ones MeshCore needs. */

static inline size_t smeg_mnl_socket_buffer_size(void) {
    return MNL_SOCKET_BUFFER_SIZE;
}

static inline struct nlattr *smeg_mnl_attr_first(const struct nlmsghdr *nlh, unsigned int offset) {
    return (struct nlattr *)mnl_nlmsg_get_payload_offset(nlh, offset);
}

static inline struct nlattr *smeg_mnl_attr_first_nested(const struct nlattr *nest) {
    return (struct nlattr *)mnl_attr_get_payload(nest);
}

static inline unsigned int smeg_ifa_rta_offset(void) {
    return (unsigned int)sizeof(struct ifaddrmsg);
}

static inline unsigned int smeg_ifi_rta_offset(void) {
    return (unsigned int)sizeof(struct ifinfomsg);
}

static inline unsigned int smeg_rtm_rta_offset(void) {
    return (unsigned int)sizeof(struct rtmsg);
}

static inline unsigned int smeg_fib_rule_rta_offset(void) {
    return (unsigned int)sizeof(struct fib_rule_hdr);
}

static inline unsigned int smeg_genl_hdrlen(void) {
    return (unsigned int)GENL_HDRLEN;
}

static inline uint16_t smeg_genl_id_ctrl(void) {
    return GENL_ID_CTRL;
}

#endif
