package dev.affiliatematrix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.action.admin.indices.template.put.PutComposableIndexTemplateAction;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.cluster.metadata.ComposableIndexTemplate;
import org.opensearch.cluster.metadata.Template;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single OpenSearch 2.19 node embedded in this JVM, for local runs and tests.
 * Embedding skips the bootstrap checks (so it runs as root) and needs no distribution:
 * the modules a distribution would load are passed as classpath plugins.
 *
 * Usage: LocalOpenSearch <http-port> <home-dir>. Prints "READY http://127.0.0.1:<port>" once serving with its
 * index template (SINGLE_NODE) in place: `./task opensearch` and the tests' node alike.
 */
public final class LocalOpenSearch {

    private static final Collection<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class,
        MapperExtrasPlugin.class, ReindexPlugin.class);

    /**
     * The index template every index of this node takes: no replica. A cluster's operator sets how many copies of an
     * index it keeps (terraform/opensearch.tf's template asks 1); one node has nowhere to put a replica, and every
     * index asking one stayed yellow.
     */
    static final String SINGLE_NODE = "single-node";

    /** Node's plugin-taking constructor is protected; this subclass only opens it. */
    private static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment environment) {
            super(environment, MODULES, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: LocalOpenSearch <http-port> <home-dir>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path home = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(home);
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("cluster.name", "affiliate-matrix-local")
            .put("node.name", "local-0")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            // CI disks can be nearly full; the watermark would turn indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", false)
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "local-0");
        Node node = new EmbeddedNode(environment);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }));
        node.start();
        Template noReplica = new Template(Settings.builder().put("index.number_of_replicas", 0).build(), null, null);
        node.client().execute(PutComposableIndexTemplateAction.INSTANCE,
            new PutComposableIndexTemplateAction.Request(SINGLE_NODE).indexTemplate(
                new ComposableIndexTemplate(List.of("*"), noReplica, null, 0L, null, null))).actionGet();
        System.out.println("READY http://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }
}
