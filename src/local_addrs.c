/* local_addrs.c - this host's addresses, cached for the engine's
 * direction rule (which end of a tunnel is local) in live capture. */
#include "idt_build.h"
#include "local_addrs.h"
#include "clock.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t g_addr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idt_addr *g_addrs;
static size_t g_naddrs;
static uint64_t g_addrs_at;

static void refresh_addrs(void)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return;
    size_t n = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
        n++;
    struct idt_addr *a = calloc(n ? n : 1, sizeof *a);
    if (!a) {
        freeifaddrs(ifa);
        return;
    }
    size_t k = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            a[k].family = 4;
            memcpy(a[k].a, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
            k++;
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            a[k].family = 6;
            memcpy(a[k].a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
            k++;
        }
    }
    freeifaddrs(ifa);
    free(g_addrs);
    g_addrs = a;
    g_naddrs = k;
}

int local_addrs_has(void *ctx, const struct idt_addr *addr)
{
    (void)ctx;
    int found = 0;
    pthread_mutex_lock(&g_addr_lock);
    uint64_t now = idt_mono_us();
    if (!g_addrs || now - g_addrs_at > 5000000ULL) {
        refresh_addrs();
        g_addrs_at = now;
    }
    for (size_t i = 0; i < g_naddrs && !found; i++)
        found = idt_addr_eq(&g_addrs[i], addr);
    pthread_mutex_unlock(&g_addr_lock);
    return found;
}
