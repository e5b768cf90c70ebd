from glob import glob

from setuptools import setup

package_name = 'fleetdrill_gazebo'

setup(
    name=package_name,
    version='0.1.0',
    packages=[package_name],
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{package_name}']),
        (f'share/{package_name}', ['package.xml']),
        (f'share/{package_name}/launch', glob('launch/*.launch.py')),
        (f'share/{package_name}/config', glob('config/*.yaml')),
        (f'share/{package_name}/worlds', glob('worlds/*.sdf')),
        (f'share/{package_name}/models/fd_amr_1', glob('models/fd_amr_1/*')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='fleetdrill',
    maintainer_email='fleetdrill@example.invalid',
    description='A fleetdrill robot in headless gz sim with the reference robot ROS 2 interface.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'robot_services = fleetdrill_gazebo.robot_services:main',
        ],
    },
)
