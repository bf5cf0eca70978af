// Readiness probe for the test Kafka started by scripts/services.sh.
//
//   java -cp '<kafka lib>/*:<dir of this class>' KafkaReady 127.0.0.1:19092 10
//
// Succeeds (exit 0) once the broker answers a metadata request (describeCluster
// lists at least one broker and listTopics returns); exits 1 if it does not
// within the given number of seconds.
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

public class KafkaReady {
    public static void main(String[] args) throws Exception {
        String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:19092";
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 10;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        String last = "no attempt";
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                try {
                    var cluster = admin.describeCluster();
                    var nodes = cluster.nodes().get(3, TimeUnit.SECONDS);
                    Set<String> topics = admin.listTopics().names().get(3, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        Node n = nodes.iterator().next();
                        System.out.printf("kafka ready: cluster %s, broker %d at %s:%d, %d topic(s)%n",
                            cluster.clusterId().get(), n.id(), n.host(), n.port(), topics.size());
                        return;
                    }
                    last = "metadata lists no broker yet";
                } catch (Exception e) {
                    last = e.getCause() != null ? e.getCause().toString() : e.toString();
                }
                Thread.sleep(500);
            }
        }
        System.err.println("kafka not ready at " + bootstrap + " after " + seconds + " s: " + last);
        System.exit(1);
    }
}
