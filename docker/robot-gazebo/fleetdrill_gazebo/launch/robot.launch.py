"""One fleetdrill robot in gz sim, headless, reachable over rosbridge.

Started by the robot software in the Gazebo image (reference/robot-sim/gazebo-stack.ts), which
passes every argument below; gazebo-contract.test.ts checks that the two lists agree. Brings up
the gz sim server (no GUI) with the world, spawns the robot at its spawn pose, bridges gz topics
to ROS 2 (config/bridge.yaml), starts rosbridge_server on the robot's port and the robot's
services node. Nothing writes outside /tmp and the robot's disk, so the image runs as any user.
"""

import os
import tempfile

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

# The name the robot has in gz sim; robot_services.py tells its own contacts by it.
ROBOT_MODEL_NAME = 'robot'

# (name, default or None when gazebo-stack.ts must pass it, description)
ARGUMENTS = [
    ('robot_id', None, 'Robot id: /get_version robot_id, /diagnostics hardware_id.'),
    ('model', 'fd-amr-1', 'Robot model /get_version reports.'),
    ('version', None, 'Software version /get_version reports.'),
    ('world', None, 'The fleetdrill world name; worlds/<world>.sdf is the gz world.'),
    ('spawn_x', None, 'Spawn pose x in the map frame, m.'),
    ('spawn_y', None, 'Spawn pose y in the map frame, m.'),
    ('spawn_yaw', None, 'Spawn pose yaw, rad.'),
    ('dock_x', None, 'Charging dock x, m.'),
    ('dock_y', None, 'Charging dock y, m.'),
    ('dock_radius', None, 'Charging dock radius, m.'),
    ('rtf', '1', 'Real-time factor of the physics.'),
    ('rosbridge_address', '0.0.0.0', 'Address rosbridge listens on.'),
    ('rosbridge_port', '9090', 'Port rosbridge listens on.'),
    ('disk', '/fleetdrill/disk', 'The robot disk; the self-test checks it is writable.'),
    ('self_test_failures', '', 'Failures the software variant adds to every self-test, "; "-separated.'),
]


def generate_launch_description():
    declared = [
        DeclareLaunchArgument(name, description=text)
        if default is None
        else DeclareLaunchArgument(name, default_value=default, description=text)
        for name, default, text in ARGUMENTS
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=launch_robot)])


def launch_robot(context):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    share = get_package_share_directory('fleetdrill_gazebo')
    world = arg('world')
    template = os.path.join(share, 'worlds', f'{world}.sdf')
    if not os.path.isfile(template):
        shipped = sorted(f[: -len('.sdf')] for f in os.listdir(os.path.join(share, 'worlds')))
        raise RuntimeError(f'no gz world for fleetdrill world "{world}" ({template}); shipped: {shipped}')
    rtf = float(arg('rtf'))
    if not rtf > 0:
        raise RuntimeError(f'rtf must be > 0, got {rtf}')
    # The world with this run's real-time factor, in /tmp: the package share is read-only.
    runtime = tempfile.mkdtemp(prefix=f'fleetdrill-gazebo-{arg("robot_id")}-')
    world_file = os.path.join(runtime, f'{world}.sdf')
    with open(template, encoding='utf-8') as source, open(world_file, 'w', encoding='utf-8') as out:
        out.write(source.read().replace('REAL_TIME_FACTOR', repr(rtf)))

    gz_env = {
        'GZ_SIM_RESOURCE_PATH': os.path.join(share, 'models'),
        # gz-transport discovers over multicast on the container's network: robots sharing a
        # docker network would hear each other's /scan without a partition of their own.
        'GZ_PARTITION': f'fleetdrill-{arg("robot_id")}',
        # gz keeps logs and caches under $HOME; the harness may run the image as any uid.
        'HOME': runtime,
    }
    return [
        # -s: server only, no GUI; -r: run at once; headless rendering for the gpu_lidar (EGL).
        ExecuteProcess(
            cmd=['gz', 'sim', '-s', '-r', '--headless-rendering', '-v', '2', world_file],
            name='gz_sim',
            output='screen',
            additional_env=gz_env,
        ),
        Node(
            package='ros_gz_sim',
            executable='create',
            name='spawn_robot',
            output='screen',
            arguments=[
                '-world', world,
                '-file', os.path.join(share, 'models', 'fd_amr_1', 'model.sdf'),
                '-name', ROBOT_MODEL_NAME,
                '-x', arg('spawn_x'),
                '-y', arg('spawn_y'),
                '-z', '0.0',
                '-Y', arg('spawn_yaw'),
            ],
            additional_env=gz_env,
        ),
        Node(
            package='ros_gz_bridge',
            executable='parameter_bridge',
            name='gz_bridge',
            output='screen',
            parameters=[{'config_file': os.path.join(share, 'config', 'bridge.yaml'), 'use_sim_time': True}],
            additional_env=gz_env,
        ),
        Node(
            package='rosbridge_server',
            executable='rosbridge_websocket',
            name='rosbridge_websocket',
            output='screen',
            parameters=[{'port': int(arg('rosbridge_port')), 'address': arg('rosbridge_address')}],
        ),
        Node(
            package='fleetdrill_gazebo',
            executable='robot_services',
            name='robot_services',
            output='screen',
            parameters=[
                {
                    'use_sim_time': True,
                    'robot_id': arg('robot_id'),
                    'model': arg('model'),
                    'version': arg('version'),
                    'spawn_x': float(arg('spawn_x')),
                    'spawn_y': float(arg('spawn_y')),
                    'spawn_yaw': float(arg('spawn_yaw')),
                    'dock_x': float(arg('dock_x')),
                    'dock_y': float(arg('dock_y')),
                    'dock_radius': float(arg('dock_radius')),
                    'disk': arg('disk'),
                    'self_test_failures': arg('self_test_failures'),
                }
            ],
        ),
    ]
