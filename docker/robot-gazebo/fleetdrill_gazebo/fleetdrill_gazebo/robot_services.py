"""The Gazebo robot's ROS interface beyond what gz sim bridges directly.

gz sim gives the lidar (/scan), the IMU (/imu) and the clock straight through ros_gz_bridge. This
node gives the rest of the reference robot's interface (reference/robot-sim/robot-node.ts), with
the same names and types: /odom in the map frame, /cmd_vel and /goal_pose, /bumper from gz
contacts, /goal_status, /battery_state, /diagnostics and the services /estop, /reset_estop,
/self_test and /get_version. It runs on sim time, as the reference robot's stamps do.
"""

import math
import os
import tempfile

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_gz_interfaces.msg import Contacts
from sensor_msgs.msg import BatteryState, Imu, LaserScan
from std_srvs.srv import Trigger

from fleetdrill_msgs.msg import Collision, GoalStatus
from fleetdrill_msgs.srv import GetVersion

# The reference robot's limits and tolerances (reference/robot-sim: drive.ts, controller.ts, robot.ts).
MAX_LINEAR = 1.0
MAX_ANGULAR = 1.5
GOAL_POSITION_TOLERANCE = 0.15
GOAL_YAW_TOLERANCE = 0.1
NO_PROGRESS_S = 15.0
CMD_TIMEOUT_S = 0.5
# Contacts stop arriving once the robot is free; a new hit needs this long without any.
CONTACT_RELEASE_S = 0.5
# The reference pack (reference/robot-sim/battery.ts).
CAPACITY_AH = 2.0
EMPTY_V = 21.0
FULL_V = 25.2
IDLE_W = 20.0
LINEAR_W = 60.0
ANGULAR_W = 15.0
CHARGE_A = 4.0
# A sensor that said nothing for this long fails the self-test.
SENSOR_STALE_S = 2.0


def yaw_of(q):
    return math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z))


def wrap(angle):
    return math.atan2(math.sin(angle), math.cos(angle))


class RobotServices(Node):
    def __init__(self):
        super().__init__('robot_services')
        for name, default in [
            ('robot_id', ''),
            ('model', 'fd-amr-1'),
            ('version', ''),
            ('spawn_x', 0.0),
            ('spawn_y', 0.0),
            ('spawn_yaw', 0.0),
            ('dock_x', 0.0),
            ('dock_y', 0.0),
            ('dock_radius', 0.0),
            ('disk', '/fleetdrill/disk'),
            ('self_test_failures', ''),
        ]:
            self.declare_parameter(name, default)
        param = lambda name: self.get_parameter(name).value  # noqa: E731
        self.robot_id = param('robot_id')
        self.model = param('model')
        self.version = param('version')
        self.spawn = (float(param('spawn_x')), float(param('spawn_y')), float(param('spawn_yaw')))
        self.dock = (float(param('dock_x')), float(param('dock_y')), float(param('dock_radius')))
        self.disk = param('disk')
        self.variant_failures = [f for f in param('self_test_failures').split('; ') if f]

        self.pose = (self.spawn[0], self.spawn[1], self.spawn[2])
        self.speed = (0.0, 0.0)
        self.estopped = False
        self.command = (0.0, 0.0)
        self.command_at = None
        self.goal = None
        self.goal_count = 0
        self.collisions = 0
        self.last_contact_at = None
        self.last_scan = None
        self.last_imu = None
        self.charge = CAPACITY_AH
        self.battery_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        self.battery_at = None

        latched = QoSProfile(
            depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        self.odom_pub = self.create_publisher(Odometry, '/odom', 10)
        self.battery_pub = self.create_publisher(BatteryState, '/battery_state', 10)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.bumper_pub = self.create_publisher(Collision, '/bumper', 10)
        # Late joiners get the last status, as from the reference robot's latched topic.
        self.goal_status_pub = self.create_publisher(GoalStatus, '/goal_status', latched)
        self.drive_pub = self.create_publisher(Twist, '/fleetdrill/gz/cmd_vel', 10)

        self.create_subscription(Twist, '/cmd_vel', self.on_cmd_vel, 10)
        self.create_subscription(PoseStamped, '/goal_pose', self.on_goal_pose, 10)
        self.create_subscription(Odometry, '/fleetdrill/gz/odom', self.on_gz_odom, 10)
        self.create_subscription(Contacts, '/fleetdrill/gz/contacts', self.on_contacts, 10)
        self.create_subscription(LaserScan, '/scan', self.on_scan, 10)
        self.create_subscription(Imu, '/imu', self.on_imu, 10)

        self.create_service(Trigger, '/estop', self.on_estop)
        self.create_service(Trigger, '/reset_estop', self.on_reset_estop)
        self.create_service(Trigger, '/self_test', self.on_self_test)
        self.create_service(GetVersion, '/get_version', self.on_get_version)

        self.create_timer(0.05, self.drive)
        self.create_timer(1.0, self.once_a_second)

    def now_s(self):
        return self.get_clock().now().nanoseconds / 1e9

    # Odometry: gz's DiffDrive counts from the spawn pose; the reference robot's odom is the map.
    def on_gz_odom(self, msg):
        x0, y0, yaw0 = self.spawn
        p = msg.pose.pose.position
        c, s = math.cos(yaw0), math.sin(yaw0)
        yaw = wrap(yaw0 + yaw_of(msg.pose.pose.orientation))
        self.pose = (x0 + c * p.x - s * p.y, y0 + s * p.x + c * p.y, yaw)
        self.speed = (msg.twist.twist.linear.x, msg.twist.twist.angular.z)
        out = Odometry()
        out.header.stamp = msg.header.stamp
        out.header.frame_id = 'odom'
        out.child_frame_id = 'base_link'
        out.pose.pose.position.x, out.pose.pose.position.y = self.pose[0], self.pose[1]
        out.pose.pose.orientation.z = math.sin(yaw / 2)
        out.pose.pose.orientation.w = math.cos(yaw / 2)
        out.pose.covariance = msg.pose.covariance
        out.twist = msg.twist
        self.odom_pub.publish(out)

    def on_scan(self, _msg):
        self.last_scan = self.now_s()

    def on_imu(self, msg):
        self.last_imu = (self.now_s(), msg.linear_acceleration.z)

    def on_cmd_vel(self, msg):
        if self.estopped:
            return
        if not all(math.isfinite(v) for v in (msg.linear.x, msg.angular.z)):
            return
        if self.goal:
            self.end_goal('canceled', 'superseded by /cmd_vel')
        self.command = (msg.linear.x, msg.angular.z)
        self.command_at = self.now_s()

    def on_goal_pose(self, msg):
        # The odom frame is the map here too; any other frame cannot be transformed.
        if msg.header.frame_id not in ('', 'map', 'odom'):
            self.get_logger().warn(f'/goal_pose in frame "{msg.header.frame_id}" ignored')
            return
        self.goal_count += 1
        goal_id = self.goal_count
        if self.goal:
            self.end_goal('canceled', f'preempted by goal {goal_id}')
        target = (msg.pose.position.x, msg.pose.position.y, yaw_of(msg.pose.orientation))
        if self.estopped:
            self.publish_goal(goal_id, 'aborted', 'e-stop is active', 0.0)
            return
        if self.charge <= 0:
            self.publish_goal(goal_id, 'aborted', 'battery is empty', 0.0)
            return
        remaining = self.distance_to(target)
        self.goal = {'id': goal_id, 'target': target, 'best': remaining, 'best_at': self.now_s()}
        self.publish_goal(goal_id, 'active', '', remaining)

    def distance_to(self, target):
        return math.hypot(target[0] - self.pose[0], target[1] - self.pose[1])

    def publish_goal(self, goal_id, status, reason, remaining):
        msg = GoalStatus()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = 'map'
        msg.goal_id = goal_id
        msg.status = status
        msg.reason = reason
        msg.distance_remaining = float(remaining)
        self.goal_status_pub.publish(msg)

    def end_goal(self, status, reason):
        goal, self.goal = self.goal, None
        if goal:
            remaining = 0.0 if status == 'succeeded' else self.distance_to(goal['target'])
            self.publish_goal(goal['id'], status, reason, remaining)

    def drive(self):
        """20 Hz: the goal follower, the command timeout and the e-stop decide what the wheels get."""
        now = self.now_s()
        v, w = 0.0, 0.0
        if self.estopped:
            pass
        elif self.goal:
            v, w = self.follow(self.goal, now)
        elif self.command_at is not None and now - self.command_at <= CMD_TIMEOUT_S:
            v, w = self.command
        out = Twist()
        out.linear.x = max(-MAX_LINEAR, min(MAX_LINEAR, v))
        out.angular.z = max(-MAX_ANGULAR, min(MAX_ANGULAR, w))
        self.drive_pub.publish(out)

    def follow(self, goal, now):
        """Turn towards the goal, drive there, turn to its yaw: a straight line, no planner."""
        tx, ty, tyaw = goal['target']
        x, y, yaw = self.pose
        remaining = self.distance_to(goal['target'])
        if remaining <= GOAL_POSITION_TOLERANCE:
            error = wrap(tyaw - yaw)
            if abs(error) <= GOAL_YAW_TOLERANCE:
                self.end_goal('succeeded', '')
                return 0.0, 0.0
            return 0.0, 2.0 * error
        if remaining < goal['best'] - 0.05:
            goal['best'], goal['best_at'] = remaining, now
        elif now - goal['best_at'] > NO_PROGRESS_S:
            self.end_goal('aborted', f'no progress for {NO_PROGRESS_S:g} s')
            return 0.0, 0.0
        error = wrap(math.atan2(ty - y, tx - x) - yaw)
        v = 0.0 if abs(error) > 0.5 else min(MAX_LINEAR, 0.8 * remaining) * math.cos(error)
        return v, 2.0 * error

    def on_contacts(self, msg):
        now = self.now_s()
        touching = self.last_contact_at is not None and now - self.last_contact_at < CONTACT_RELEASE_S
        self.last_contact_at = now
        if touching or not msg.contacts:
            return
        self.collisions += 1
        contact = msg.contacts[0]
        # Scoped names, model::link::collision; the other side's model names the obstacle.
        names = [contact.collision1.name, contact.collision2.name]
        others = [n.split('::')[0] for n in names if not n.startswith('robot::')]
        obstacle = others[0] if others else 'unknown'
        out = Collision()
        out.header.stamp = self.get_clock().now().to_msg()
        out.header.frame_id = 'map'
        out.obstacle = obstacle
        out.position.x, out.position.y = self.pose[0], self.pose[1]
        out.speed = abs(self.speed[0])
        self.bumper_pub.publish(out)
        if self.goal:
            self.end_goal('aborted', f'collision with {obstacle}')

    def on_estop(self, _request, response):
        already = self.estopped
        self.estopped = True
        self.command_at = None
        if self.goal:
            self.end_goal('aborted', 'e-stop')
        response.success = True
        response.message = 'e-stop already engaged' if already else 'e-stop engaged, braking'
        return response

    def on_reset_estop(self, _request, response):
        was = self.estopped
        self.estopped = False
        self.command_at = None
        response.success = True
        response.message = 'e-stop released' if was else 'e-stop was not engaged'
        return response

    def on_self_test(self, _request, response):
        now = self.now_s()
        failures = []
        if self.last_scan is None or now - self.last_scan > SENSOR_STALE_S:
            failures.append('lidar: no returns')
        if self.last_imu is None or now - self.last_imu[0] > SENSOR_STALE_S:
            failures.append('imu: no data')
        elif abs(self.last_imu[1] - 9.8) >= 1:
            failures.append(f'imu: gravity reads {self.last_imu[1]:.2f} m/s²')
        pct = self.charge / CAPACITY_AH * 100
        if pct <= 5:
            failures.append(f'battery: {pct:.1f} % (needs > 5 %)')
        if self.estopped:
            failures.append('e-stop: engaged')
        disk_problem = self.disk_problem()
        if disk_problem:
            failures.append(disk_problem)
        failures += self.variant_failures
        response.success = not failures
        response.message = '; '.join(failures) if failures else 'lidar, imu, battery, e-stop, disk: ok'
        return response

    def disk_problem(self):
        try:
            with tempfile.NamedTemporaryFile(dir=self.disk, prefix='.self-test-') as probe:
                probe.write(b'ok')
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as error:
            return f'disk: cannot write {self.disk}: {error.strerror}'
        return None

    def on_get_version(self, _request, response):
        response.version = self.version
        response.model = self.model
        response.robot_id = self.robot_id
        return response

    def once_a_second(self):
        self.update_battery()
        self.publish_diagnostics()

    @property
    def docked(self):
        dx, dy, radius = self.dock
        v, w = self.speed
        near = math.hypot(self.pose[0] - dx, self.pose[1] - dy) <= radius
        return near and abs(v) < 0.05 and abs(w) < 0.1

    def update_battery(self):
        now = self.now_s()
        dt = 0.0 if self.battery_at is None else max(0.0, now - self.battery_at)
        self.battery_at = now
        v, w = self.speed
        voltage = EMPTY_V + (FULL_V - EMPTY_V) * self.charge / CAPACITY_AH
        if self.docked and self.charge >= CAPACITY_AH:
            current, self.battery_status = 0.0, BatteryState.POWER_SUPPLY_STATUS_FULL
        elif self.docked:
            current, self.battery_status = CHARGE_A, BatteryState.POWER_SUPPLY_STATUS_CHARGING
        else:
            power = IDLE_W + LINEAR_W * abs(v) / MAX_LINEAR + ANGULAR_W * abs(w) / MAX_ANGULAR
            current, self.battery_status = -power / voltage, BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        self.charge = min(CAPACITY_AH, max(0.0, self.charge + current * dt / 3600))
        msg = BatteryState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = 'base_link'
        msg.voltage = voltage
        msg.temperature = 25.0
        msg.current = current
        msg.charge = self.charge
        msg.capacity = CAPACITY_AH
        msg.design_capacity = CAPACITY_AH
        msg.percentage = self.charge / CAPACITY_AH
        msg.power_supply_status = self.battery_status
        msg.power_supply_health = BatteryState.POWER_SUPPLY_HEALTH_GOOD
        msg.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_LION
        msg.present = True
        msg.location = 'base'
        msg.serial_number = f'{self.robot_id}-bat'
        self.battery_pub.publish(msg)

    def publish_diagnostics(self):
        pct = self.charge / CAPACITY_AH * 100

        def status(level, name, message, values):
            return DiagnosticStatus(
                level=bytes([level]),
                name=name,
                message=message,
                hardware_id=self.robot_id,
                values=[KeyValue(key=k, value=v) for k, v in values],
            )

        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [
            status(
                1 if self.estopped else 0,
                'robot-gazebo: base',
                'e-stop engaged' if self.estopped else 'ok',
                [
                    ('e-stop', str(self.estopped).lower()),
                    ('collisions', str(self.collisions)),
                    ('goal active', str(self.goal is not None).lower()),
                ],
            ),
            status(
                2 if pct <= 5 else 1 if pct < 20 else 0,
                'robot-gazebo: battery',
                'battery critical' if pct <= 5 else 'battery low' if pct < 20 else 'ok',
                [('battery %', f'{pct:.2f}')],
            ),
        ]
        self.diagnostics_pub.publish(msg)


def main():
    rclpy.init()
    node = RobotServices()
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
